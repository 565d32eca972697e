-- The shape every event must have before it is recorded; null when it has it.
-- No created is not a problem: treasury_private.event_created falls back to
-- the time received.
create or replace function treasury_private.event_problem(event jsonb)
returns text
language sql
immutable
as $$
  select case
    when jsonb_typeof(event) is distinct from 'object' then 'a Stripe event must be a JSON object'
    when jsonb_typeof(event -> 'id') is distinct from 'string' or char_length(event ->> 'id') not between 1 and 255 then
      'event.id must be a string of 1 to 255 characters'
    when jsonb_typeof(event -> 'type') is distinct from 'string' or char_length(event ->> 'type') not between 1 and 255 then
      'event.type must be a string of 1 to 255 characters'
    when coalesce(jsonb_typeof(event -> 'livemode'), 'null') not in ('boolean', 'null') then
      'event.livemode must be true or false'
    when jsonb_typeof(event -> 'data' -> 'object') is distinct from 'object' then
      'event.data.object must be an object'
  end
$$;
