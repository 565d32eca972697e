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
    else concierto_private.event_problem(create_event.title, create_event.venue, create_event.city, create_event.country,
                                         create_event.starts_at, create_event.doors_at, create_event.currency)
  end;
  problem := coalesce(problem, case
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
  end);
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  insert into concierto.events as e
    (host_id, title, venue, city, country, starts_at, doors_at, currency, split_host_bp, split_artists_bp,
     split_platform_bp, state, published_at)
  values
    (create_event.host_id, create_event.title, create_event.venue, create_event.city, create_event.country,
     create_event.starts_at, create_event.doors_at, create_event.currency, create_event.split_host_bp,
     create_event.split_artists_bp, create_event.split_platform_bp, 'published', now())
  returning e.id into new_id;
  -- The platform agreed the split with everyone: the lineup has accepted.
  -- Artists share split_artists_bp equally, the indivisible rest to the headliner.
  insert into concierto.event_artists (event_id, artist_id, position, share_bp, state, responded_at)
  select new_id, a.artist, a.position,
         create_event.split_artists_bp / cardinality(create_event.artist_ids)
           + case when a.position = 1 then create_event.split_artists_bp % cardinality(create_event.artist_ids) else 0 end,
         'accepted', now()
  from unnest(create_event.artist_ids) with ordinality as a(artist, position);
  return new_id;
end
$$;

comment on function concierto.create_event(uuid, text, text, text, text, timestamptz, timestamptz, text, int, int, int, uuid[]) is
  'Creates an event for host_id with its lineup (artist_ids, headliner first) and ticket split settings (basis '
  'points summing to 10000; the artists share split_artists_bp equally, the rest to the headliner); returns its id. '
  'For the platform (service_role): the split is agreed with the host and the lineup, so the event is published '
  'at once. Hosts create drafts with concierto.create_draft_event. '
  '22023 names the first bad argument.';

-- Functions in this schema start with no grant (sql/foundation/privileges.sql).
grant execute on function concierto.create_event(uuid, text, text, text, text, timestamptz, timestamptz, text, int, int, int, uuid[])
  to service_role;
