create or replace function concierto.create_event(
  host_id uuid,
  title text,
  venue text,
  city text,
  country text,
  starts_at timestamptz,
  doors_at timestamptz,
  currency text,
  split_host_bp int,
  split_artists_bp int,
  split_platform_bp int,
  artist_ids uuid[]
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem text;
  new_id uuid;
begin
  problem := case
    when create_event.host_id is null then 'host_id is required'
    when create_event.title is null or char_length(create_event.title) not between 1 and 200 then
      'title must be a string of 1 to 200 characters'
    when create_event.venue is null or char_length(create_event.venue) not between 1 and 200 then
      'venue must be a string of 1 to 200 characters'
    when create_event.city is null or char_length(create_event.city) not between 1 and 100 then
      'city must be a string of 1 to 100 characters'
    when create_event.country is null or create_event.country !~ '^[A-Z]{2}$' then
      'country must be an ISO 3166-1 alpha-2 code in capitals (NG)'
    when create_event.starts_at is null or not isfinite(create_event.starts_at) then 'starts_at is required'
    when create_event.doors_at is null or not isfinite(create_event.doors_at) then 'doors_at is required'
    when create_event.doors_at > create_event.starts_at then 'doors_at must not be after starts_at'
    when create_event.currency is null or create_event.currency !~ '^[A-Z]{3}$' then
      'currency must be an ISO 4217 code in capitals (EUR)'
    when create_event.split_host_bp is null or create_event.split_host_bp not between 0 and 10000
         or create_event.split_artists_bp is null or create_event.split_artists_bp not between 0 and 10000
         or create_event.split_platform_bp is null or create_event.split_platform_bp not between 0 and 10000 then
      'split_host_bp, split_artists_bp and split_platform_bp must each be 0 to 10000 basis points'
    when create_event.split_host_bp + create_event.split_artists_bp + create_event.split_platform_bp <> 10000 then
      format('the splits sum to %s basis points, not 10000',
             create_event.split_host_bp + create_event.split_artists_bp + create_event.split_platform_bp)
    when coalesce(cardinality(create_event.artist_ids), 0) not between 1 and 50 then
      'artist_ids must name 1 to 50 artists (the headliner first)'
    when array_position(create_event.artist_ids, null) is not null then 'artist_ids must not contain null'
    when (select count(distinct a) from unnest(create_event.artist_ids) as a) <> cardinality(create_event.artist_ids) then
      'artist_ids must not name an artist twice'
  end;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  insert into concierto.events as e
    (host_id, title, venue, city, country, starts_at, doors_at, currency, split_host_bp, split_artists_bp,
     split_platform_bp)
  values
    (create_event.host_id, create_event.title, create_event.venue, create_event.city, create_event.country,
     create_event.starts_at, create_event.doors_at, create_event.currency, create_event.split_host_bp,
     create_event.split_artists_bp, create_event.split_platform_bp)
  returning e.id into new_id;
  insert into concierto.event_artists (event_id, artist_id, position)
  select new_id, a.artist, a.position
  from unnest(create_event.artist_ids) with ordinality as a(artist, position);
  return new_id;
end
$$;

comment on function concierto.create_event(uuid, text, text, text, text, timestamptz, timestamptz, text, int, int, int, uuid[]) is
  'Creates an event for host_id with its lineup (artist_ids, headliner first) and ticket split settings (basis '
  'points summing to 10000); returns its id. For the platform (service_role): the split is agreed with the host. '
  '22023 names the first bad argument.';

-- Functions in this schema start with no grant (sql/foundation/privileges.sql).
grant execute on function concierto.create_event(uuid, text, text, text, text, timestamptz, timestamptz, text, int, int, int, uuid[])
  to service_role;
