-- Folds a batch of entries into the player stats (docs/player-stats.md), after fold_entries has stored
-- their mutations: the plays with the units the counting rules gave them (a play counts when its units are
-- above 0; a play under 30 s has no mutation and is not seen at all), the likes and unlikes (the newest entry
-- of a fan and track wins; counts move only when the state flips) and the door admissions (once per fan and
-- event, counted per city and month). Callers fold each entry once: process_pending folds what it claimed,
-- rebuild the whole log after emptying the tables, both under the refresh lock and in id order.
-- received_from and received_to bound the entries' received_at, as in fold_entries.
create or replace function coliseum_private.fold_player_stats(
  entry_ids bigint[],
  received_from timestamptz default '-infinity',
  received_to timestamptz default 'infinity'
)
returns void
language sql
volatile
as $$
  with batch as (
    select e.id, e.user_id, e.kind, e.artist_id, e.payload, least(e.occurred_at, e.received_at) as occurred_at
    from public.passport_entries as e
    where e.id = any (entry_ids) and e.received_at between received_from and received_to
      and e.kind in ('audio.play', 'audio.like', 'audio.unlike', 'concierto.ticket_validated',
                     'concierto.event_attended')
  ),
  -- The processor's own facts: each play's T mutation carries the units the rules gave it (version-1 rows,
  -- stored before the rules, have none and counted in full).
  plays as materialized (
    select
      m.entry_id, m.fan_id, m.artist_id, (b.payload ->> 'track_id')::uuid as track_id, m.occurred_at,
      coalesce(m.units, 1) > 0 as counted, (m.occurred_at at time zone 'UTC')::date as day
    from batch as b
    join public.coliseum_dna_mutations as m on m.entry_id = b.id and m.domain = 'T' and m.occurred_at = b.occurred_at
    where b.kind = 'audio.play' and passport_private.is_uuid(b.payload ->> 'track_id')
  ),
  -- Likes: the last like or unlike of each (fan, track) in the batch, against what is stored.
  last_likes as (
    select distinct on (b.user_id, b.payload ->> 'track_id')
      b.user_id as fan_id, (b.payload ->> 'track_id')::uuid as track_id, b.artist_id, b.kind = 'audio.like' as liked,
      b.id as entry_id, b.occurred_at
    from batch as b
    where b.kind in ('audio.like', 'audio.unlike') and b.artist_id is not null and b.user_id is not null
      and passport_private.is_uuid(b.payload ->> 'track_id')
    order by b.user_id, b.payload ->> 'track_id', b.id desc
  ),
  like_changes as materialized (
    select l.*, t.liked as was_liked, t.artist_id as was_artist
    from last_likes as l
    left join coliseum.track_likes as t on t.fan_id = l.fan_id and t.track_id = l.track_id
    where t.entry_id is null or t.entry_id < l.entry_id
  ),
  likes_saved as (
    insert into coliseum.track_likes as t (fan_id, track_id, artist_id, liked, entry_id, changed_at)
    select c.fan_id, c.track_id, c.artist_id, c.liked, c.entry_id, c.occurred_at
    from like_changes as c
    order by c.fan_id, c.track_id
    on conflict (fan_id, track_id) do update set
      artist_id = excluded.artist_id, liked = excluded.liked, entry_id = excluded.entry_id,
      changed_at = excluded.changed_at
  ),
  -- +1 for a like that was not there, -1 (to the artist it counted for) for one taken back.
  like_deltas as (
    select c.track_id, c.artist_id, 1 as likes from like_changes as c where c.liked and not coalesce(c.was_liked, false)
    union all
    select c.track_id, c.was_artist, -1 from like_changes as c where c.was_liked and not c.liked
  ),
  track_parts as (
    select p.track_id, p.artist_id, p.entry_id as seq, case when p.counted then 1 else 0 end as plays, 0 as likes
    from plays as p
    union all
    select d.track_id, d.artist_id, null, 0, d.likes from like_deltas as d
  ),
  tracks as (
    insert into coliseum_private.track_counts as t (track_id, artist_id, plays, likes)
    select p.track_id, (array_agg(p.artist_id order by p.seq nulls last))[1], sum(p.plays), sum(p.likes)
    from track_parts as p
    group by p.track_id
    order by p.track_id
    on conflict (track_id) do update set plays = t.plays + excluded.plays, likes = t.likes + excluded.likes
  ),
  track_days as (
    insert into coliseum_private.track_play_days as d (track_id, day, plays)
    select p.track_id, p.day, count(*)
    from plays as p
    where p.counted
    group by p.track_id, p.day
    order by p.track_id, p.day
    on conflict (track_id, day) do update set plays = d.plays + excluded.plays
  ),
  artists as (
    insert into coliseum_private.artist_counts as a (artist_id, plays, likes)
    select p.artist_id, sum(p.plays), sum(p.likes)
    from track_parts as p
    group by p.artist_id
    order by p.artist_id
    on conflict (artist_id) do update set plays = a.plays + excluded.plays, likes = a.likes + excluded.likes
  ),
  artist_days as (
    insert into coliseum_private.artist_play_days as d (artist_id, day, plays)
    select p.artist_id, p.day, count(*)
    from plays as p
    where p.counted
    group by p.artist_id, p.day
    order by p.artist_id, p.day
    on conflict (artist_id, day) do update set plays = d.plays + excluded.plays
  ),
  history as (
    insert into coliseum.fan_tracks as f
      (fan_id, track_id, artist_id, plays, counted_plays, first_played_at, last_played_at)
    select
      p.fan_id, p.track_id, (array_agg(p.artist_id order by p.occurred_at desc, p.entry_id desc))[1], count(*),
      count(*) filter (where p.counted), min(p.occurred_at), max(p.occurred_at)
    from plays as p
    group by p.fan_id, p.track_id
    order by p.fan_id, p.track_id
    on conflict (fan_id, track_id) do update set
      artist_id = case when excluded.last_played_at >= f.last_played_at then excluded.artist_id else f.artist_id end,
      plays = f.plays + excluded.plays,
      counted_plays = f.counted_plays + excluded.counted_plays,
      first_played_at = least(f.first_played_at, excluded.first_played_at),
      last_played_at = greatest(f.last_played_at, excluded.last_played_at)
  ),
  -- Door admissions: concierto.redeem logs ticket_validated for the holder and event_attended per lineup
  -- artist; a fan attends an event once, however many tickets or artists.
  admitted as (
    insert into coliseum_private.attendances (fan_id, event_id, country, city, attended_at, entry_id)
    select distinct on (b.user_id, b.payload ->> 'event_id')
      b.user_id, (b.payload ->> 'event_id')::uuid, upper(b.payload ->> 'country'), b.payload ->> 'city', b.occurred_at,
      b.id
    from batch as b
    where b.kind in ('concierto.ticket_validated', 'concierto.event_attended') and b.user_id is not null
      and passport_private.is_uuid(b.payload ->> 'event_id')
      and coalesce(b.payload ->> 'country', '') ~ '^[A-Za-z]{2}$' and coalesce(b.payload ->> 'city', '') <> ''
    order by b.user_id, b.payload ->> 'event_id', b.id
    on conflict (fan_id, event_id) do nothing
    returning fan_id, country, lower(city) as city_key, attended_at
  )
  -- Each new attendance counts in its UTC calendar month and in all time (-infinity).
  insert into coliseum_private.attendance_counts as c (country, city_key, month, fan_id, events, last_attended_at)
  select a.country, a.city_key, m.month, a.fan_id, count(*), max(a.attended_at)
  from admitted as a
  cross join lateral (values (date_trunc('month', a.attended_at, 'UTC')::date), ('-infinity'::date)) as m(month)
  group by a.country, a.city_key, m.month, a.fan_id
  order by 1, 2, 3, 4
  on conflict (country, city_key, month, fan_id) do update set
    events = c.events + excluded.events,
    last_attended_at = greatest(c.last_attended_at, excluded.last_attended_at)
$$;
