-- The board days whose ranks coliseum_private.rank_history_days keeps on the UTC day on_day: each of the
-- 15 boards' reference day of on_day and of the next day, so the ranks are ready when the day turns.
create or replace function coliseum_private.ranked_history_days(on_day date)
returns table (domain text, period text, day date)
language sql
immutable
parallel safe
as $$
  select d.domain, p.period, coliseum_private.reference_day(p.period, on_day + o.ahead)
  from unnest(array['A', 'T', 'G', 'C', 'overall']) as d(domain)
  cross join unnest(array['7d', '30d', 'alltime']) as p(period)
  cross join unnest(array[0, 1]) as o(ahead)
$$;
