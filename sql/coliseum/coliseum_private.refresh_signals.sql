-- Recomputes the suspicion signals of the given artists as of as_of
-- (docs/coliseum-dna.md, "Suspicion signals"), from the per-day and per-hour
-- aggregates: fan concentration and new-account share over the last 7 UTC
-- days (coliseum_private.fan_days), velocity from the hour buckets (the last
-- 24 hours against the daily mean of the 28 days before). Called by every
-- refresh, so the signals move with the scores.
create or replace function coliseum_private.refresh_signals(artists uuid[], as_of timestamptz)
returns void
language sql
volatile
as $$
  with targets as (
    select distinct t.artist_id from unnest(artists) as t(artist_id) where t.artist_id is not null
  ),
  fans as (
    select d.artist_id, d.fan_id, sum(d.entries) as entries, sum(d.units) as units,
           sum(d.new_account_entries) as new_entries
    from targets as t
    join coliseum_private.fan_days as d
      on d.artist_id = t.artist_id
     and d.day > ((as_of at time zone 'UTC') - interval '7 days')::date
     and d.day <= (as_of at time zone 'UTC')::date
    group by d.artist_id, d.fan_id
  ),
  ranked as (
    select f.*, row_number() over (partition by f.artist_id order by f.units desc, f.entries desc, f.fan_id) as rank,
           sum(f.units) over (partition by f.artist_id) as total_units
    from fans as f
  ),
  week as (
    select
      r.artist_id, sum(r.entries) as entries, count(*) as fans, sum(r.units) as units, sum(r.new_entries) as new_entries,
      min(r.fan_id::text) filter (where r.rank = 1)::uuid as top_fan_id,
      coalesce(max(r.units)::double precision / nullif(sum(r.units), 0), 0) as top_fan_share,
      jsonb_agg(jsonb_build_object('fan_id', r.fan_id, 'units', r.units, 'entries', r.entries,
                                   'share', coalesce(r.units::double precision / nullif(r.total_units, 0), 0))
                order by r.rank) filter (where r.rank <= 5) as top_fans
    from ranked as r
    group by r.artist_id
  ),
  pace as (
    select
      t.artist_id,
      coalesce(sum(h.entries) filter (where h.hour > as_of - interval '24 hours'), 0) as entries_24h,
      coalesce(sum(h.entries) filter (where h.hour <= as_of - interval '24 hours'), 0) / 28.0 as daily_mean_28d
    from targets as t
    left join coliseum_private.dna_hours as h
      on h.artist_id = t.artist_id and h.hour > as_of - interval '29 days' and h.hour <= as_of
    group by t.artist_id
  ),
  signals as (
    select
      t.artist_id, coalesce(w.entries, 0) as entries_7d, coalesce(w.fans, 0) as fans_7d, coalesce(w.units, 0) as units_7d,
      w.top_fan_id, coalesce(w.top_fan_share, 0) as top_fan_share, p.entries_24h, p.daily_mean_28d::double precision as daily_mean_28d,
      p.entries_24h / greatest(p.daily_mean_28d, 1)::double precision as velocity,
      coalesce(w.new_entries::double precision / nullif(w.entries, 0), 0) as new_account_share,
      coalesce(w.top_fans, '[]') as top_fans
    from targets as t
    join pace as p on p.artist_id = t.artist_id
    left join week as w on w.artist_id = t.artist_id
  )
  insert into coliseum_private.artist_signals as a
    (artist_id, as_of, entries_7d, fans_7d, units_7d, top_fan_id, top_fan_share, entries_24h, daily_mean_28d, velocity,
     new_account_share, suspicion, top_fans)
  select
    s.artist_id, as_of, s.entries_7d, s.fans_7d, s.units_7d, s.top_fan_id, s.top_fan_share, s.entries_24h,
    s.daily_mean_28d, s.velocity, s.new_account_share,
    -- The mean of three parts in 0..1: the top fan's share, the new-account
    -- share, and the velocity on a log scale (1x = 0, 1000x and more = 1).
    (s.top_fan_share + s.new_account_share + least(1, log(greatest(s.velocity, 1)::numeric)::double precision / 3)) / 3,
    s.top_fans
  from signals as s
  order by s.artist_id
  on conflict (artist_id) do update set
    as_of = excluded.as_of, entries_7d = excluded.entries_7d, fans_7d = excluded.fans_7d, units_7d = excluded.units_7d,
    top_fan_id = excluded.top_fan_id, top_fan_share = excluded.top_fan_share, entries_24h = excluded.entries_24h,
    daily_mean_28d = excluded.daily_mean_28d, velocity = excluded.velocity,
    new_account_share = excluded.new_account_share, suspicion = excluded.suspicion, top_fans = excluded.top_fans
$$;

comment on function coliseum_private.refresh_signals(uuid[], timestamptz) is
  'Recomputes the suspicion signals (coliseum_private.artist_signals) of the given artists as of as_of.';
