-- Recomputes the 3 periods x (4 domains + overall) of the given artists as of
-- as_of, in one statement, and stores them: coliseum_domain_strength (only
-- the rows whose values changed: Realtime sends every row written), the
-- artists' refresh time, the
-- day's strength_history row, a notification per 30d domain score that rose
-- by 0.5 or more, and NOTIFY coliseum_strength with the rows whose score
-- changed, and the artists' suspicion signals (refresh_signals). Refreshes run one at a time (a transaction-scoped advisory lock,
-- taken before the statement that reads, so its snapshot holds every mutation
-- committed by the refreshes before it). announce = false (rebuild) writes no
-- notification and sends no NOTIFY.
--
-- It reads the running aggregates (coliseum_private.dna_hours and friends),
-- never the whole history: per artist, the hour buckets of the last 30 days,
-- the all-time totals, one row per fan and per (place, fan), and the events
-- of the hours that straddle an edge of the windows or of the decay.
create or replace function coliseum_private.refresh_artists(artists uuid[], as_of timestamptz, announce boolean default true)
returns int
language plpgsql
volatile
-- One statement over many rows: hash tables in memory, no JIT start-up.
set work_mem = '64MB'
set jit = off
as $$
declare
  refreshed int;
begin
  if as_of is null or not isfinite(as_of) then
    raise exception using errcode = '22023', message = 'as_of must be a finite timestamp';
  end if;
  if coalesce(cardinality(artists), 0) = 0 then
    return 0;
  end if;
  -- 'Coli' 'Rfsh'
  perform pg_advisory_xact_lock(1131375721, 1382446952);

  with targets as (
    select distinct t.artist_id from unnest(artists) as t(artist_id) where t.artist_id is not null
  ),
  -- The windows nest: 7d within 30d within alltime. Each event falls in one
  -- band: 0 = the last 7 days, 1 = the 23 days before, 2 = older; a window
  -- is the bands up to its last one, and holds the times after its cutoff.
  -- Edges are exclusive: an event exactly 7 days old is in band 1.
  periods (period, last_band, cutoff) as (
    values ('7d', 0, as_of - interval '168 hours'),
           ('30d', 1, as_of - interval '720 hours'),
           ('alltime', 2, '-infinity'::timestamptz)
  ),
  -- The hour buckets from the hour holding the 30-day edge on, each with the
  -- cells of its first and last event (coliseum_private.cell). Everything
  -- before them is band 2 at the decay floor.
  hours as materialized (
    select
      h.*,
      coliseum_private.cell(h.first_at, as_of) as first_cell,
      coliseum_private.cell(h.last_at, as_of) as last_cell
    from targets as t
    cross join lateral (
      select * from coliseum_private.dna_hours as h
      where h.artist_id = t.artist_id and h.hour >= date_trunc('hour', as_of - interval '720 hours', 'UTC')
      offset 0 -- one index range per artist
    ) as h
  ),
  -- Hours whose events straddle an edge: their events are read one by one.
  mixed as (
    select distinct h.artist_id, h.hour from hours as h where h.first_cell <> h.last_cell
  ),
  -- What each band holds, per domain and genre, from three sources that do
  -- not overlap: the clean hour buckets, the events of mixed hours, and the
  -- all-time totals minus the hours read. Decayed weights are exact integers
  -- in units x µs (coliseum.decayed_units); any order of rows gives the same sums.
  parts as (
    select
      h.artist_id, case when h.first_cell <= 1 then 0 when h.first_cell <= 3 then 1 else 2 end as band,
      h.domain, h.genre, h.mutations, h.entries,
      coliseum.bucket_decayed_units(h.units, h.unit_micros, h.hour, h.first_at, h.last_at, as_of) as decayed,
      -- Influence is A's and touring C's: the other domains' buckets hold no such units, and no units decay
      -- to 0 (their unit_micros are 0 too), so the call is skipped (the twin's costs about 50 µs).
      case when h.influence_units = 0 then 0
           else coliseum.bucket_decayed_units(h.influence_units, h.influence_unit_micros, h.hour, h.first_at,
                                              h.last_at, as_of) end as influence,
      case when h.touring_units = 0 then 0
           else coliseum.bucket_decayed_units(h.touring_units, h.touring_unit_micros, h.hour, h.first_at, h.last_at,
                                              as_of) end as touring,
      h.plays, h.cents, h.transactions, h.attendance
    from hours as h
    where h.first_cell = h.last_cell
      and not exists (select from mixed as x where x.artist_id = h.artist_id and x.hour = h.hour)
    union all
    select
      m.artist_id, case when c.cell <= 1 then 0 when c.cell <= 3 then 1 else 2 end,
      m.domain, f.genre_key, 1, f.entry, c.decayed,
      case when f.influence then c.decayed else 0 end,
      case when f.touring then c.decayed else 0 end,
      f.play, coalesce(m.amount_usd_cents, 0), f.transaction, f.attended
    from mixed as x
    cross join lateral (
      select * from public.coliseum_dna_mutations as m
      where m.artist_id = x.artist_id and m.occurred_at >= x.hour and m.occurred_at < x.hour + interval '1 hour'
      offset 0
    ) as m
    cross join lateral coliseum_private.mutation_facts(m.domain, m.kind, m.tier, m.amount_usd_cents, m.genre) as f
    cross join lateral (select coliseum_private.cell(m.occurred_at, as_of) as cell,
                               -- the mutation's own units (counting rules), tier_units on version-1 rows
                               (coliseum.decayed_units(m.tier, m.occurred_at, as_of) / f.units
                                * coalesce(m.units, f.units))::numeric as decayed) as c
    union all
    -- Older than every hour read: all at the floor; any time before the
    -- first hour read stands for them in bucket_decayed_units.
    select
      o.artist_id, 2, o.domain, o.genre, o.mutations - coalesce(r.mutations, 0), o.entries - coalesce(r.entries, 0),
      coliseum.bucket_decayed_units(o.units - coalesce(r.units, 0), 0, x.old, x.old, x.old, as_of),
      case when o.influence_units = coalesce(r.influence_units, 0) then 0
           else coliseum.bucket_decayed_units(o.influence_units - coalesce(r.influence_units, 0), 0, x.old, x.old, x.old,
                                              as_of) end,
      case when o.touring_units = coalesce(r.touring_units, 0) then 0
           else coliseum.bucket_decayed_units(o.touring_units - coalesce(r.touring_units, 0), 0, x.old, x.old, x.old,
                                              as_of) end,
      o.plays - coalesce(r.plays, 0), o.cents - coalesce(r.cents, 0),
      o.transactions - coalesce(r.transactions, 0), o.attendance - coalesce(r.attendance, 0)
    from targets as t
    join coliseum_private.dna_totals as o on o.artist_id = t.artist_id
    left join (
      select h.artist_id, h.domain, h.genre, sum(h.mutations) as mutations, sum(h.entries) as entries,
             sum(h.units) as units, sum(h.influence_units) as influence_units, sum(h.touring_units) as touring_units,
             sum(h.plays) as plays, sum(h.cents) as cents, sum(h.transactions) as transactions,
             sum(h.attendance) as attendance
      from hours as h
      group by h.artist_id, h.domain, h.genre
    ) as r on r.artist_id = o.artist_id and r.domain = o.domain and r.genre = o.genre
    cross join (select date_trunc('hour', as_of - interval '720 hours', 'UTC') - interval '1 microsecond' as old) as x
    where o.mutations > coalesce(r.mutations, 0)
  ),
  -- Everything additive, per band, then per window.
  band_sums as (
    select
      p.artist_id, p.band,
      sum(p.entries) as entries,
      sum(p.decayed) as engagement,
      sum(p.mutations) filter (where p.domain = 'A') as events_a,
      sum(p.decayed) filter (where p.domain = 'A') as e_a,
      sum(p.influence) filter (where p.domain = 'A') as influence,
      sum(p.mutations) filter (where p.domain = 'T') as events_t,
      sum(p.decayed) filter (where p.domain = 'T') as e_t,
      sum(p.plays) filter (where p.domain = 'T') as plays,
      sum(p.mutations) filter (where p.domain = 'G') as events_g,
      sum(p.decayed) filter (where p.domain = 'G') as e_g,
      sum(p.cents) filter (where p.domain = 'G') as revenue,
      sum(p.transactions) filter (where p.domain = 'G') as transactions,
      sum(p.mutations) filter (where p.domain = 'C') as events_c,
      sum(p.decayed) filter (where p.domain = 'C') as e_c,
      sum(p.touring) filter (where p.domain = 'C') as touring,
      sum(p.attendance) filter (where p.domain = 'C') as attendance
    from parts as p
    group by p.artist_id, p.band
  ),
  sums as (
    select
      b.artist_id, p.period,
      sum(b.entries) as entries, sum(b.engagement) as engagement,
      sum(b.events_a) as events_a, sum(b.e_a) as e_a, sum(b.influence) as influence,
      sum(b.events_t) as events_t, sum(b.e_t) as e_t, sum(b.plays) as plays,
      sum(b.events_g) as events_g, sum(b.e_g) as e_g, sum(b.revenue) as revenue, sum(b.transactions) as transactions,
      sum(b.events_c) as events_c, sum(b.e_c) as e_c, sum(b.touring) as touring, sum(b.attendance) as attendance
    from band_sums as b
    join periods as p on b.band <= p.last_band
    group by b.artist_id, p.period
  ),
  genres as (
    select
      g.artist_id, g.period,
      coliseum.normalized_entropy(array_agg(g.weight::double precision / 25920000000000 order by g.genre)) as diversity,
      (array_agg(g.genre order by g.weight desc, g.genre))[1] as main_genre
    from (select x.artist_id, p.period, x.genre, sum(x.decayed) as weight
          from parts as x
          join periods as p on x.band <= p.last_band
          where x.domain = 'A' and x.genre <> ''
          group by x.artist_id, p.period, x.genre) as g
    group by g.artist_id, g.period
  ),
  fan_rows as materialized (
    select f.*
    from targets as t
    cross join lateral (select * from coliseum_private.artist_fans as f where f.artist_id = t.artist_id offset 0) as f
  ),
  -- The home genre of every A fan: declared, else the genre of most weight.
  a_fans as (
    select distinct f.fan_id from fan_rows as f where f.last_a is not null
  ),
  top_genres as (
    select distinct on (fg.fan_id) fg.fan_id, fg.genre
    from coliseum.fan_genres as fg
    join a_fans as a on a.fan_id = fg.fan_id
    order by fg.fan_id, fg.weight desc, fg.genre
  ),
  homes as (
    select a.fan_id, coalesce(f.declared_genre, tg.genre) as home_genre
    from a_fans as a
    left join coliseum.fans as f on f.fan_id = a.fan_id
    left join top_genres as tg on tg.fan_id = a.fan_id
  ),
  -- A fan counts in a window when the time of the thing is after its cutoff.
  fans as (
    select
      f.artist_id, p.period,
      count(*) filter (where f.last_any > p.cutoff) as fans,
      count(*) filter (where f.last_a > p.cutoff) as fans_a,
      count(*) filter (where f.last_a > p.cutoff and h.home_genre is not null) as known_a,
      count(*) filter (where f.last_a > p.cutoff and h.home_genre <> g.main_genre) as crossing_a,
      count(*) filter (where f.last_t > p.cutoff) as fans_t,
      -- Active on two UTC days or more within the window.
      count(*) filter (where f.t_prev > p.cutoff) as returning_t,
      count(*) filter (where f.last_t > p.cutoff and f.last_converted > p.cutoff) as converted_t,
      count(*) filter (where f.last_g > p.cutoff) as fans_g,
      count(*) filter (where f.last_c > p.cutoff) as fans_c
    from fan_rows as f
    cross join periods as p
    left join homes as h on h.fan_id = f.fan_id
    left join genres as g on g.artist_id = f.artist_id and g.period = p.period
    group by f.artist_id, p.period
  ),
  place_rows as materialized (
    select x.*
    from targets as t
    cross join lateral (select * from coliseum_private.artist_places as x where x.artist_id = t.artist_id offset 0) as x
  ),
  city_fans as (
    select x.artist_id, p.period, x.country, x.city, count(*) as fans
    from place_rows as x
    join periods as p on x.last_at > p.cutoff
    where x.city <> ''
    group by x.artist_id, p.period, x.country, x.city
  ),
  cities as (
    select
      c.artist_id, c.period,
      count(*) as cities,
      1 - coliseum.concentration(array_agg(c.fans::double precision order by c.country, c.city)) as distribution,
      max(c.fans) as top_city_fans
    from city_fans as c
    group by c.artist_id, c.period
  ),
  countries as (
    select x.artist_id, p.period, count(distinct x.country) as countries
    from place_rows as x
    join periods as p on x.last_at > p.cutoff
    where x.country <> ''
    group by x.artist_id, p.period
  ),
  -- Every metric of an artist and window in one row; weights back in their
  -- units; no data is 0.
  metrics as (
    select
      t.artist_id, p.period,
      coalesce(s.engagement, 0)::double precision / 25920000000000 as engagement,
      coalesce(s.entries, 0) as entries,
      coalesce(f.fans, 0) as fans,
      -- A
      coalesce(s.events_a, 0) as events_a, coalesce(f.fans_a, 0) as fans_a,
      coalesce(s.e_a, 0)::double precision / 25920000000000 as e_a,
      coalesce(s.influence, 0)::double precision / 25920000000000 as influence,
      coalesce(g.diversity, 0) as diversity,
      coalesce(f.crossing_a::double precision / nullif(f.known_a, 0), 0) as crossover,
      g.main_genre,
      -- T
      coalesce(s.events_t, 0) as events_t, coalesce(f.fans_t, 0) as fans_t,
      coalesce(s.e_t, 0)::double precision / 25920000000000 as e_t,
      coalesce(f.returning_t::double precision / nullif(f.fans_t, 0), 0) as loyalty,
      coalesce(s.plays::double precision / nullif(f.fans_t, 0), 0) as repeat,
      coalesce(f.converted_t::double precision / nullif(f.fans_t, 0), 0) as conversion,
      -- G
      coalesce(s.events_g, 0) as events_g, coalesce(f.fans_g, 0) as fans_g,
      coalesce(s.e_g, 0)::double precision / 25920000000000 as e_g,
      coalesce(s.revenue, 0) as revenue, -- numeric: a sum of bigints may pass bigint
      coalesce(s.transactions, 0) as transactions,
      -- C
      coalesce(s.events_c, 0) as events_c, coalesce(f.fans_c, 0) as fans_c,
      coalesce(s.e_c, 0)::double precision / 25920000000000 as e_c,
      coalesce(ci.cities, 0) as cities,
      coalesce(co.countries, 0) as countries,
      coalesce(ci.distribution, 0) as distribution,
      coalesce(s.touring, 0)::double precision / 25920000000000 as touring,
      coalesce(s.attendance, 0) as attendance,
      coalesce(ci.top_city_fans::double precision / nullif(f.fans_c, 0), 0) as fan_density
    from targets as t
    cross join periods as p
    left join sums as s on s.artist_id = t.artist_id and s.period = p.period
    left join fans as f on f.artist_id = t.artist_id and f.period = p.period
    left join genres as g on g.artist_id = t.artist_id and g.period = p.period
    left join cities as ci on ci.artist_id = t.artist_id and ci.period = p.period
    left join countries as co on co.artist_id = t.artist_id and co.period = p.period
  ),
  domains as (
    select m.artist_id, m.period, d.domain, d.raw, coliseum.strength_score(d.raw) as score, d.components, d.events, d.fans
    from metrics as m
    cross join lateral (values
      ('A', m.e_a * (1 + m.diversity) * (1 + m.crossover),
       jsonb_build_object('engagement', m.e_a, 'influence', m.influence, 'genre_diversity', m.diversity,
                          'crossover', m.crossover, 'main_genre', m.main_genre),
       m.events_a, m.fans_a),
      ('T', m.e_t * (1 + m.loyalty) * (1 + m.conversion),
       jsonb_build_object('engagement', m.e_t, 'fans', m.fans_t, 'loyalty', m.loyalty, 'repeat', m.repeat,
                          'conversion', m.conversion),
       m.events_t, m.fans_t),
      ('G', m.e_g * (1 + log(1 + greatest(m.revenue, 0)::double precision / 100)),
       jsonb_build_object('engagement', m.e_g, 'revenue_usd_cents', m.revenue, 'transactions', m.transactions,
                          'revenue_per_fan', coalesce(m.revenue::double precision / nullif(m.fans, 0), 0),
                          'avg_transaction_value', coalesce(m.revenue::double precision / nullif(m.transactions, 0), 0),
                          'monetization_efficiency', coalesce(m.revenue::double precision / nullif(m.engagement, 0), 0)),
       m.events_g, m.fans_g),
      ('C', m.e_c * (1 + m.distribution) * (1 + log(1 + m.countries::double precision)),
       jsonb_build_object('engagement', m.e_c, 'cities', m.cities, 'countries', m.countries,
                          'city_distribution', m.distribution, 'touring_viability', m.touring,
                          'attendance', m.attendance, 'fan_density', m.fan_density),
       m.events_c, m.fans_c)
    ) as d (domain, raw, components, events, fans)
  ),
  computed as materialized (
    select d.artist_id, d.domain, d.period, d.score, d.raw, d.components, d.events, d.fans
    from domains as d
    union all
    -- overall: the mean of the four domain scores; raw is the same mean.
    select
      d.artist_id, 'overall', d.period,
      -- summed in a fixed order: the same bits whatever order the rows come in
      sum(d.score order by d.domain) / 4, sum(d.score order by d.domain) / 4,
      jsonb_object_agg(d.domain, d.score),
      max(m.entries), max(m.fans)
    from domains as d
    join metrics as m on m.artist_id = d.artist_id and m.period = d.period
    group by d.artist_id, d.period
  ),
  previous as (
    select s.artist_id, s.domain, s.period, s.score
    from targets as t
    cross join lateral (
      select * from public.coliseum_domain_strength as s where s.artist_id = t.artist_id offset 0
    ) as s
  ),
  saved as (
    insert into public.coliseum_domain_strength as s
      (artist_id, domain, period, score, raw, components, events, fans, computed_at)
    select c.artist_id, c.domain, c.period, c.score, c.raw, c.components, c.events, c.fans, as_of
    from computed as c
    order by c.artist_id, c.domain, c.period
    on conflict (artist_id, domain, period) do update set
      score = excluded.score, raw = excluded.raw, components = excluded.components,
      events = excluded.events, fans = excluded.fans, computed_at = excluded.computed_at
    where (s.score, s.raw, s.components, s.events, s.fans)
          is distinct from (excluded.score, excluded.raw, excluded.components, excluded.events, excluded.fans)
  ),
  refreshed as (
    insert into coliseum_private.artist_refreshes as r (artist_id, refreshed_at)
    select t.artist_id, as_of from targets as t
    order by t.artist_id
    on conflict (artist_id) do update set refreshed_at = excluded.refreshed_at
  ),
  history as (
    insert into coliseum.strength_history as h (day, artist_id, domain, period, score, raw)
    select (as_of at time zone 'UTC')::date, c.artist_id, c.domain, c.period, c.score, c.raw
    from computed as c
    order by c.artist_id, c.domain, c.period
    on conflict (artist_id, domain, period, day) do update set score = excluded.score, raw = excluded.raw
    where (h.score, h.raw) is distinct from (excluded.score, excluded.raw) -- a value that holds is not rewritten
  ),
  changes as (
    select c.artist_id, c.domain, c.period, c.score, p.score as previous
    from computed as c
    left join previous as p on p.artist_id = c.artist_id and p.domain = c.domain and p.period = c.period
    where c.score is distinct from p.score
  ),
  rises as (
    insert into coliseum.notifications (artist_id, domain, period, previous_score, score, delta, message)
    select
      c.artist_id, c.domain, c.period, coalesce(c.previous, 0), c.score, c.score - coalesce(c.previous, 0),
      format('Your DNA just increased: %s +%s', c.domain, round((c.score - coalesce(c.previous, 0))::numeric, 1))
    from changes as c
    where announce and c.period = '30d' and c.domain <> 'overall' and c.score - coalesce(c.previous, 0) >= 0.5
    order by c.artist_id, c.domain
    returning id, artist_id, domain, period, previous_score, score, delta, message
  ),
  -- Each rise is also a dna.increased notification in the artist's People inbox (docs/people.md), the
  -- one the app shows; coliseum.notifications keeps Coliseum's own record of it for its readers.
  told as (
    select people_private.notify(r.artist_id, 'dna.increased', r.message, null,
                                 jsonb_build_object('domain', r.domain, 'period', r.period,
                                                    'previous_score', r.previous_score, 'score', r.score,
                                                    'delta', r.delta, 'coliseum_notification_id', r.id),
                                 'coliseum.notifications:' || r.id)
    from rises as r
  ),
  -- NOTIFY payloads stay under 8000 bytes: rows are cut into chunks of at
  -- most about 7700 bytes of JSON.
  change_json as (
    select j.row, sum(octet_length(j.row::text) + 2) over (order by c.artist_id, c.domain, c.period) as upto
    from changes as c
    cross join lateral (select jsonb_build_object('artist_id', c.artist_id, 'domain', c.domain, 'period', c.period,
                                                  'score', c.score, 'previous', c.previous) as row) as j
    where announce
  ),
  sent as (
    select pg_notify('coliseum_strength',
                     jsonb_build_object('as_of', as_of, 'rows', jsonb_agg(cj.row order by cj.upto))::text)
    from change_json as cj
    group by cj.upto / 7500
  )
  -- sent and told are read for what they do: a CTE that only selects runs when the statement reads it.
  select t.n::int into refreshed
  from (select count(*) from targets) as t(n)
  cross join (select count(*) from sent) as s(n)
  cross join (select count(*) from told) as n(n);
  perform coliseum_private.refresh_signals(artists, as_of);
  return refreshed;
end
$$;
