-- Folds a batch of entries into DNA: stores their mutations (an entry already
-- folded adds nothing) with the units the counting rules give them, adds what
-- the new mutations carry to the running aggregates (hours, totals, fans,
-- places, fan days with the tracks that counted), adds the genre weights of the new A mutations to
-- fan_genres and takes the fans' latest home and declared genre. Returns the
-- artists that got new mutations. Entries need not be pending: rebuild folds
-- the whole log through here. Callers hold the refresh lock, so folds never
-- run side by side, and fold in id order: the counting rules rank plays in
-- log order, so any batching of the log gives the same units.
-- received_from and received_to bound the entries' received_at (the log's
-- partition key): the reads of the log touch only the months in between. A
-- caller passes the span of the batch it claimed; the defaults read every
-- month. Mutations are looked up by their partition key too (occurred_at).
create or replace function coliseum_private.fold_entries(
  entry_ids bigint[],
  received_from timestamptz default '-infinity',
  received_to timestamptz default 'infinity'
)
returns uuid[]
language sql
volatile
as $$
  with batch as (
    select e.* from public.passport_entries as e
    where e.id = any (entry_ids) and e.received_at between received_from and received_to
  ),
  -- Each mutation with the track of its entry (plays only), taken here so that nothing below joins the
  -- batch again: the planner cannot know the CTEs' sizes, and a nested loop over two of them is
  -- quadratic in the batch.
  candidates as materialized (
    select m.*, case when m.kind = 'audio.play' then coalesce(b.payload ->> 'track_id', '') end as track
    from batch as b
    cross join lateral coliseum_private.mutations_of(b) as m
  ),
  -- The counting rules (docs/coliseum-dna.md, "Counting rules"): the batch's
  -- plays, one row per entry, with their slot, UTC day and track.
  plays as (
    select distinct on (c.entry_id)
      c.entry_id, c.artist_id, c.fan_id, c.track,
      coliseum.play_slot(c.occurred_at) as slot, (c.occurred_at at time zone 'UTC')::date as day
    from candidates as c
    where c.kind = 'audio.play'
      -- An entry folded before stores nothing again (stored below), so its play counts nothing again.
      and not exists (select from public.coliseum_dna_mutations as m
                      where m.entry_id = c.entry_id and m.occurred_at = c.occurred_at)
    order by c.entry_id
  ),
  -- The first play of each track in a slot where that track has not counted
  -- yet, ranked after the tracks that did (a repeat gets no rank), with the
  -- fan's counted plays of the day so far.
  fresh as (
    select
      p.*,
      coalesce(d.counted_plays, 0) as day_before,
      coalesce((select count(*) from unnest(d.tracks) as t where starts_with(t, p.slot || ':')), 0)
        + row_number() over (partition by p.artist_id, p.fan_id, p.slot order by p.entry_id) as slot_rank
    from (select distinct on (p.artist_id, p.fan_id, p.slot, p.track) p.*
          from plays as p
          order by p.artist_id, p.fan_id, p.slot, p.track, p.entry_id) as p
    left join coliseum_private.fan_days as d on d.artist_id = p.artist_id and d.day = p.day and d.fan_id = p.fan_id
    where not coalesce(p.slot || ':' || p.track = any (d.tracks), false)
  ),
  -- The plays the slot rule lets through, ranked in their (fan, artist, day).
  counted as (
    select
      f.*,
      f.day_before + row_number() over (partition by f.artist_id, f.fan_id, f.day order by f.entry_id) as day_rank
    from fresh as f
    where coliseum.play_counts(f.slot_rank)
  ),
  stored as (
    insert into public.coliseum_dna_mutations
      (entry_id, artist_id, domain, fan_id, kind, occurred_at, tier, weight, amount_usd_cents, genre, city, country,
       rules_version, units)
    select
      c.entry_id, c.artist_id, c.domain, c.fan_id, c.kind, c.occurred_at, c.tier, c.weight, c.amount_usd_cents, c.genre,
      c.city, c.country, c.rules_version,
      case when c.kind = 'audio.play' then coalesce(coliseum.play_units(c.tier, k.day_rank), 0)
           else coliseum.tier_units(c.tier) end
    from candidates as c
    left join counted as k on k.entry_id = c.entry_id
    order by c.entry_id, c.domain
    on conflict on constraint coliseum_dna_mutations_entry_domain_key do nothing
    returning entry_id, artist_id, fan_id, domain, kind, tier, occurred_at, weight, amount_usd_cents, genre, city, country,
              units as counted_units
  ),
  facts as materialized (
    select
      s.entry_id, s.artist_id, s.fan_id, s.domain, s.kind, s.tier, s.occurred_at, s.weight, s.amount_usd_cents, s.genre,
      s.city, s.country,
      f.genre_key, f.entry, s.counted_units as units, f.influence, f.touring, f.play, f.transaction, f.attended,
      f.converts,
      date_trunc('hour', s.occurred_at, 'UTC') as hour,
      (s.occurred_at at time zone 'UTC')::date as day
    from stored as s
    cross join lateral coliseum_private.mutation_facts(s.domain, s.kind, s.tier, s.amount_usd_cents, s.genre) as f
  ),
  timed as (
    select
      f.*,
      f.units * ((extract(epoch from f.occurred_at) - extract(epoch from f.hour)) * 1000000)::bigint as unit_micros
    from facts as f
  ),
  hours as (
    insert into coliseum_private.dna_hours as h
      (artist_id, hour, domain, genre, mutations, entries, units, unit_micros, influence_units, influence_unit_micros,
       touring_units, touring_unit_micros, plays, cents, transactions, attendance, first_at, last_at)
    select
      t.artist_id, t.hour, t.domain, t.genre_key,
      count(*), sum(t.entry), sum(t.units), sum(t.unit_micros),
      coalesce(sum(t.units) filter (where t.influence), 0), coalesce(sum(t.unit_micros) filter (where t.influence), 0),
      coalesce(sum(t.units) filter (where t.touring), 0), coalesce(sum(t.unit_micros) filter (where t.touring), 0),
      sum(t.play), coalesce(sum(t.amount_usd_cents), 0), sum(t.transaction), sum(t.attended),
      min(t.occurred_at), max(t.occurred_at)
    from timed as t
    group by t.artist_id, t.hour, t.domain, t.genre_key
    order by t.artist_id, t.hour, t.domain, t.genre_key
    on conflict (artist_id, hour, domain, genre) do update set
      mutations = h.mutations + excluded.mutations,
      entries = h.entries + excluded.entries,
      units = h.units + excluded.units,
      unit_micros = h.unit_micros + excluded.unit_micros,
      influence_units = h.influence_units + excluded.influence_units,
      influence_unit_micros = h.influence_unit_micros + excluded.influence_unit_micros,
      touring_units = h.touring_units + excluded.touring_units,
      touring_unit_micros = h.touring_unit_micros + excluded.touring_unit_micros,
      plays = h.plays + excluded.plays,
      cents = h.cents + excluded.cents,
      transactions = h.transactions + excluded.transactions,
      attendance = h.attendance + excluded.attendance,
      first_at = least(h.first_at, excluded.first_at),
      last_at = greatest(h.last_at, excluded.last_at)
  ),
  totals as (
    insert into coliseum_private.dna_totals as o
      (artist_id, domain, genre, mutations, entries, units, influence_units, touring_units, plays, cents, transactions,
       attendance)
    select
      f.artist_id, f.domain, f.genre_key,
      count(*), sum(f.entry), sum(f.units),
      coalesce(sum(f.units) filter (where f.influence), 0), coalesce(sum(f.units) filter (where f.touring), 0),
      sum(f.play), coalesce(sum(f.amount_usd_cents), 0), sum(f.transaction), sum(f.attended)
    from facts as f
    group by f.artist_id, f.domain, f.genre_key
    order by f.artist_id, f.domain, f.genre_key
    on conflict (artist_id, domain, genre) do update set
      mutations = o.mutations + excluded.mutations,
      entries = o.entries + excluded.entries,
      units = o.units + excluded.units,
      influence_units = o.influence_units + excluded.influence_units,
      touring_units = o.touring_units + excluded.touring_units,
      plays = o.plays + excluded.plays,
      cents = o.cents + excluded.cents,
      transactions = o.transactions + excluded.transactions,
      attendance = o.attendance + excluded.attendance
  ),
  -- Per artist and fan, the batch's own last times; its t_prev is the latest
  -- T time on a day before the day of its last_t.
  fan_last as (
    select
      f.artist_id, f.fan_id,
      max(f.occurred_at) as last_any,
      max(f.occurred_at) filter (where f.domain = 'A') as last_a,
      max(f.occurred_at) filter (where f.domain = 'T') as last_t,
      max(f.occurred_at) filter (where f.domain = 'G') as last_g,
      max(f.occurred_at) filter (where f.domain = 'C') as last_c,
      max(f.occurred_at) filter (where f.converts) as last_converted,
      max(f.day) filter (where f.domain = 'T') as last_t_day
    from facts as f
    group by f.artist_id, f.fan_id
  ),
  fan_prev as (
    select f.artist_id, f.fan_id, max(f.occurred_at) as t_prev
    from facts as f
    join fan_last as l on l.artist_id = f.artist_id and l.fan_id = f.fan_id
    where f.domain = 'T' and f.day < l.last_t_day
    group by f.artist_id, f.fan_id
  ),
  fan_rows as (
    select l.artist_id, l.fan_id, l.last_any, l.last_a, l.last_t, l.last_g, l.last_c, l.last_converted, p.t_prev
    from fan_last as l
    left join fan_prev as p on p.artist_id = l.artist_id and p.fan_id = l.fan_id
  ),
  fans_merged as (
    insert into coliseum_private.artist_fans as a
      (artist_id, fan_id, last_any, last_a, last_t, last_g, last_c, last_converted, t_prev)
    select r.artist_id, r.fan_id, r.last_any, r.last_a, r.last_t, r.last_g, r.last_c, r.last_converted, r.t_prev
    from fan_rows as r
    order by r.artist_id, r.fan_id
    on conflict (artist_id, fan_id) do update set
      last_any = greatest(a.last_any, excluded.last_any),
      last_a = greatest(a.last_a, excluded.last_a),
      last_t = greatest(a.last_t, excluded.last_t),
      last_g = greatest(a.last_g, excluded.last_g),
      last_c = greatest(a.last_c, excluded.last_c),
      last_converted = greatest(a.last_converted, excluded.last_converted),
      -- Two (last_t, t_prev) pairs merge into the pair of their union.
      t_prev = case
        when a.last_t is null then excluded.t_prev
        when excluded.last_t is null then a.t_prev
        when (a.last_t at time zone 'UTC')::date = (excluded.last_t at time zone 'UTC')::date
          then greatest(a.t_prev, excluded.t_prev)
        when a.last_t > excluded.last_t then greatest(a.t_prev, excluded.last_t)
        else greatest(excluded.t_prev, a.last_t)
      end
  ),
  places as (
    insert into coliseum_private.artist_places as p (artist_id, country, city, fan_id, last_at)
    select f.artist_id, coalesce(f.country, ''), coalesce(f.city, ''), f.fan_id, max(f.occurred_at)
    from facts as f
    where f.domain = 'C' and (f.city is not null or f.country is not null)
    group by f.artist_id, coalesce(f.country, ''), coalesce(f.city, ''), f.fan_id
    order by 1, 2, 3, 4
    on conflict (artist_id, country, city, fan_id) do update set last_at = greatest(p.last_at, excluded.last_at)
  ),
  -- Per artist, day and fan: what the day rule ranks on and the signals read.
  -- New account: the entry happened within 7 days of the fan's sign-up.
  -- One index lookup per fan of the batch, never a scan of every account.
  accounts as (
    select f.fan_id as id, u.created_at
    from (select distinct f.fan_id from facts as f) as f
    cross join lateral (select u.created_at from auth.users as u where u.id = f.fan_id offset 0) as u
  ),
  -- The batch's mutations and its counted plays side by side, summed per (artist, day, fan): no join
  -- between the two, whose sizes the planner cannot know (a nested loop over them was quadratic in the
  -- batch). Every counted play has its mutations in stored: plays skips entries folded before.
  day_parts as (
    select f.artist_id, f.day, f.fan_id, f.entry as entries, 0 as counted_plays,
           case when f.entry = 1 then f.units else 0 end as units,
           case when f.occurred_at < a.created_at + interval '7 days' then f.entry else 0 end as new_account_entries,
           null::text as track, null::bigint as entry_id
    from facts as f
    left join accounts as a on a.id = f.fan_id
    union all
    select k.artist_id, k.day, k.fan_id, 0, 1, 0, 0, k.slot || ':' || k.track, k.entry_id
    from counted as k
  ),
  days as (
    insert into coliseum_private.fan_days as d
      (artist_id, day, fan_id, entries, counted_plays, units, new_account_entries, tracks)
    select
      p.artist_id, p.day, p.fan_id, sum(p.entries), sum(p.counted_plays), sum(p.units), sum(p.new_account_entries),
      coalesce(array_agg(p.track order by p.entry_id) filter (where p.track is not null), '{}')
    from day_parts as p
    group by p.artist_id, p.day, p.fan_id
    order by p.artist_id, p.day, p.fan_id
    on conflict (artist_id, day, fan_id) do update set
      entries = d.entries + excluded.entries,
      counted_plays = d.counted_plays + excluded.counted_plays,
      units = d.units + excluded.units,
      new_account_entries = d.new_account_entries + excluded.new_account_entries,
      tracks = d.tracks || excluded.tracks
  ),
  genres as (
    insert into coliseum.fan_genres as g (fan_id, genre, weight)
    select s.fan_id, s.genre, sum(s.weight)
    from stored as s
    where s.domain = 'A' and s.genre is not null
    group by s.fan_id, s.genre
    order by s.fan_id, s.genre
    on conflict (fan_id, genre) do update set weight = g.weight + excluded.weight
  ),
  profiles as (
    insert into coliseum.fans as f
      (fan_id, home_city, home_country, location_entry_id, declared_genre, genre_entry_id)
    select
      b.user_id,
      (array_agg(b.payload ->> 'city' order by b.id desc) filter (where b.kind = 'profile.location_set'))[1],
      left((array_agg(b.payload ->> 'country' order by b.id desc) filter (where b.kind = 'profile.location_set'))[1], 2),
      max(b.id) filter (where b.kind = 'profile.location_set'),
      (array_agg(b.payload ->> 'genre' order by b.id desc) filter (where b.kind = 'profile.genre_preference_set'))[1],
      max(b.id) filter (where b.kind = 'profile.genre_preference_set')
    from batch as b
    where b.kind in ('profile.location_set', 'profile.genre_preference_set')
    group by b.user_id
    order by b.user_id
    on conflict (fan_id) do update set
      home_city = case when excluded.location_entry_id > coalesce(f.location_entry_id, 0)
                       then excluded.home_city else f.home_city end,
      home_country = case when excluded.location_entry_id > coalesce(f.location_entry_id, 0)
                          then excluded.home_country else f.home_country end,
      location_entry_id = greatest(f.location_entry_id, excluded.location_entry_id),
      declared_genre = case when excluded.genre_entry_id > coalesce(f.genre_entry_id, 0)
                            then excluded.declared_genre else f.declared_genre end,
      genre_entry_id = greatest(f.genre_entry_id, excluded.genre_entry_id),
      updated_at = now()
  )
  select coalesce(array_agg(distinct s.artist_id), '{}') from stored as s
$$;
