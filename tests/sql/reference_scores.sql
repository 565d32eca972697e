-- The reference scoring of tests/tests/scoring_reference.rs: the straightforward way, every
-- mutation of an artist read and decayed one by one (its units / 10 x coliseum.recency_decay,
-- rounded to 1e-9 per row), as the refresh did before the running aggregates. The refresh must give the same
-- scores, components and counts (to rounding) as this, as of any instant.
create function pg_temp.reference_scores(artists uuid[], as_of timestamptz)
returns table (artist_id uuid, domain text, period text, score double precision, raw double precision,
               components jsonb, events bigint, fans bigint)
language sql
stable
as $reference$
  with targets as (
    select distinct t.artist_id from unnest(artists) as t(artist_id) where t.artist_id is not null
  ),
  -- The windows nest: 7d within 30d within alltime. Each mutation falls in
  -- one band: 0 = the last 7 days, 1 = the 23 days before, 2 = older; a
  -- window is the bands up to its last one. Edges are exclusive: a mutation
  -- exactly 7 days old is in band 1.
  periods (period, last_band) as (
    values ('7d', 0), ('30d', 1), ('alltime', 2)
  ),
  -- An entry counts once for the overall events: through its mutation of the
  -- first (alphabetical) domain of its kind.
  kinds as (
    select k.name as kind, (select min(d) from unnest(k.domains) as d) as first_domain
    from passport.event_kinds as k
  ),
  -- Each mutation of the artists once, read through the (artist_id,
  -- occurred_at) index one artist at a time, with its decayed weight w in
  -- integer units of 1e-9 (rounded to 9 decimals): every sum below is exact
  -- and independent of the order rows reach it, so incremental processing and
  -- a rebuild give the same bits whatever their plans. Each metric's share of
  -- the row is its own column, null (or 0) where it takes nothing, so that
  -- the aggregates need no per-row filters.
  scored as materialized (
    select
      m.artist_id, m.fan_id, m.domain, m.genre, m.city, m.country, m.w,
      case when m.occurred_at > as_of - interval '7 days' then 0
           when m.occurred_at > as_of - interval '30 days' then 1
           else 2 end as band,
      (m.domain = m.first_domain)::int as entry,
      case when m.domain = 'A' then m.w end as w_a,
      case when m.domain = 'A' and m.tier >= 3 then m.w end as w_influence,
      case when m.domain = 'T' then m.w end as w_t,
      (m.domain = 'T' and m.kind in ('audio.play', 'audio.complete'))::int as play,
      case when m.domain = 'T' then (m.occurred_at at time zone 'UTC')::date end as t_day,
      m.kind in ('social.follow', 'concierto.ticket_purchased', 'concierto.event_attended', 'membership.started',
                 'membership.renewed', 'drop.purchased', 'merch.purchased', 'tip.sent', 'treasury.money_spent') as converts,
      case when m.domain = 'G' then m.w end as w_g,
      case when m.domain = 'G' then m.amount_usd_cents end as cents,
      (m.domain = 'G' and m.amount_usd_cents > 0)::int as transaction,
      case when m.domain = 'C' then m.w end as w_c,
      case when m.domain = 'C' and m.kind in ('concierto.event_attended', 'concierto.ticket_validated',
                                             'concierto.ticket_purchased', 'concierto.event_rsvp') then m.w end as w_touring,
      (m.domain = 'C' and m.kind = 'concierto.event_attended')::int as attended
    from (
      select
        m.*, k.first_domain,
        -- the weight the mutation brings (its units, under the counting rules), decayed
        round(coalesce(m.units, coliseum.tier_units(m.tier))::double precision / 10
              * coliseum.recency_decay(m.occurred_at, as_of) * 1e9::double precision)::bigint as w
      from targets as t
      cross join lateral (
        select * from public.coliseum_dna_mutations as m where m.artist_id = t.artist_id
        offset 0 -- keeps the lookup per artist: never a scan of everyone's rows
      ) as m
      left join kinds as k on k.kind = m.kind
    ) as m
  ),
  -- Everything additive, per band, then per window.
  band_sums as (
    select
      m.artist_id, m.band,
      sum(m.entry) as entries,
      sum(m.w) as engagement,
      count(m.w_a) as events_a,
      sum(m.w_a) as e_a,
      sum(m.w_influence) as influence,
      count(m.w_t) as events_t,
      sum(m.w_t) as e_t,
      sum(m.play) as plays,
      count(m.w_g) as events_g,
      sum(m.w_g) as e_g,
      sum(m.cents) as revenue,
      sum(m.transaction) as transactions,
      count(m.w_c) as events_c,
      sum(m.w_c) as e_c,
      sum(m.w_touring) as touring,
      sum(m.attended) as attendance
    from scored as m
    group by m.artist_id, m.band
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
  -- Per artist and fan: the newest band in which the fan did each thing (a
  -- fan counts in a window when that band is within it), and the first and
  -- last UTC day of their T activity within each window.
  fan_bands as (
    select
      m.artist_id, m.fan_id,
      min(m.band) as any_band,
      min(m.band) filter (where m.w_a is not null) as a_band,
      min(m.band) filter (where m.w_t is not null) as t_band,
      min(m.band) filter (where m.w_g is not null) as g_band,
      min(m.band) filter (where m.w_c is not null) as c_band,
      min(m.band) filter (where m.converts) as converted_band,
      min(m.t_day) filter (where m.band = 0) as t_first_7d,
      max(m.t_day) filter (where m.band = 0) as t_last_7d,
      min(m.t_day) filter (where m.band <= 1) as t_first_30d,
      max(m.t_day) filter (where m.band <= 1) as t_last_30d,
      min(m.t_day) as t_first,
      max(m.t_day) as t_last
    from scored as m
    group by m.artist_id, m.fan_id
  ),
  genre_bands as (
    select m.artist_id, m.band, m.genre, sum(m.w_a) as weight
    from scored as m
    where m.w_a is not null and m.genre is not null
    group by m.artist_id, m.band, m.genre
  ),
  genres as (
    select
      g.artist_id, g.period,
      coliseum.normalized_entropy(array_agg(g.weight::double precision / 1e9 order by g.genre)) as diversity,
      (array_agg(g.genre order by g.weight desc, g.genre))[1] as main_genre
    from (select b.artist_id, p.period, b.genre, sum(b.weight) as weight
          from genre_bands as b
          join periods as p on b.band <= p.last_band
          group by b.artist_id, p.period, b.genre) as g
    group by g.artist_id, g.period
  ),
  -- The home genre of every A fan: declared, else the genre of most weight.
  a_fans as (
    select distinct f.fan_id from fan_bands as f where f.a_band is not null
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
  fans as (
    select
      f.artist_id, p.period,
      count(*) filter (where f.any_band <= p.last_band) as fans,
      count(*) filter (where f.a_band <= p.last_band) as fans_a,
      count(*) filter (where f.a_band <= p.last_band and h.home_genre is not null) as known_a,
      count(*) filter (where f.a_band <= p.last_band and h.home_genre <> g.main_genre) as crossing_a,
      count(*) filter (where f.t_band <= p.last_band) as fans_t,
      -- Active on two UTC days or more within the window: first and last day differ.
      count(*) filter (where case p.last_band when 0 then f.t_last_7d > f.t_first_7d
                                              when 1 then f.t_last_30d > f.t_first_30d
                                              else f.t_last > f.t_first end) as returning_t,
      count(*) filter (where f.t_band <= p.last_band and f.converted_band <= p.last_band) as converted_t,
      count(*) filter (where f.g_band <= p.last_band) as fans_g,
      count(*) filter (where f.c_band <= p.last_band) as fans_c
    from fan_bands as f
    cross join periods as p
    left join homes as h on h.fan_id = f.fan_id and f.a_band <= p.last_band
    left join genres as g on g.artist_id = f.artist_id and g.period = p.period
    group by f.artist_id, p.period
  ),
  city_fans as (
    select c.artist_id, p.period, c.country, c.city, count(*) as fans
    from (select m.artist_id, m.country, m.city, m.fan_id, min(m.band) as band
          from scored as m
          where m.w_c is not null and m.city is not null
          group by m.artist_id, m.country, m.city, m.fan_id) as c
    join periods as p on c.band <= p.last_band
    group by c.artist_id, p.period, c.country, c.city
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
    select c.artist_id, p.period, count(*) as countries
    from (select m.artist_id, m.country, min(m.band) as band
          from scored as m
          where m.w_c is not null and m.country is not null
          group by m.artist_id, m.country) as c
    join periods as p on c.band <= p.last_band
    group by c.artist_id, p.period
  ),
  -- Every metric of an artist and window in one row; weights back in their
  -- units; no data is 0.
  metrics as (
    select
      t.artist_id, p.period,
      coalesce(s.engagement, 0)::double precision / 1e9 as engagement,
      coalesce(s.entries, 0) as entries,
      coalesce(f.fans, 0) as fans,
      -- A
      coalesce(s.events_a, 0) as events_a, coalesce(f.fans_a, 0) as fans_a,
      coalesce(s.e_a, 0)::double precision / 1e9 as e_a,
      coalesce(s.influence, 0)::double precision / 1e9 as influence,
      coalesce(g.diversity, 0) as diversity,
      coalesce(f.crossing_a::double precision / nullif(f.known_a, 0), 0) as crossover,
      g.main_genre,
      -- T
      coalesce(s.events_t, 0) as events_t, coalesce(f.fans_t, 0) as fans_t,
      coalesce(s.e_t, 0)::double precision / 1e9 as e_t,
      coalesce(f.returning_t::double precision / nullif(f.fans_t, 0), 0) as loyalty,
      coalesce(s.plays::double precision / nullif(f.fans_t, 0), 0) as repeat,
      coalesce(f.converted_t::double precision / nullif(f.fans_t, 0), 0) as conversion,
      -- G
      coalesce(s.events_g, 0) as events_g, coalesce(f.fans_g, 0) as fans_g,
      coalesce(s.e_g, 0)::double precision / 1e9 as e_g,
      coalesce(s.revenue, 0) as revenue, -- numeric: a sum of bigints may pass bigint
      coalesce(s.transactions, 0) as transactions,
      -- C
      coalesce(s.events_c, 0) as events_c, coalesce(f.fans_c, 0) as fans_c,
      coalesce(s.e_c, 0)::double precision / 1e9 as e_c,
      coalesce(ci.cities, 0) as cities,
      coalesce(co.countries, 0) as countries,
      coalesce(ci.distribution, 0) as distribution,
      coalesce(s.touring, 0)::double precision / 1e9 as touring,
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
  )
  select c.artist_id, c.domain, c.period, c.score, c.raw, c.components, c.events::bigint, c.fans::bigint
  from computed as c
$reference$;
