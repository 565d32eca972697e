-- What is wrong with an event's description, in the words create_event has
-- always used; null when nothing is. Shared by the platform's create_event and
-- the host's create_draft_event / update_event.
create or replace function concierto_private.event_problem(
  title text, venue text, city text, country text, starts_at timestamptz, doors_at timestamptz, currency text)
returns text
language sql
immutable
as $$
  select case
    when title is null or char_length(title) not between 1 and 200 then 'title must be a string of 1 to 200 characters'
    when venue is null or char_length(venue) not between 1 and 200 then 'venue must be a string of 1 to 200 characters'
    when city is null or char_length(city) not between 1 and 100 then 'city must be a string of 1 to 100 characters'
    when country is null or country !~ '^[A-Z]{2}$' then 'country must be an ISO 3166-1 alpha-2 code in capitals (NG)'
    when starts_at is null or not isfinite(starts_at) then 'starts_at is required'
    when doors_at is null or not isfinite(doors_at) then 'doors_at is required'
    when doors_at > starts_at then 'doors_at must not be after starts_at'
    when currency is null or currency !~ '^[A-Z]{3}$' then 'currency must be an ISO 4217 code in capitals (EUR)'
  end
$$;
