-- Where a time falls as seen at as_of (edges in exact hours, like the decay):
-- 0 after as_of; 1 the last 7 days; 2 from 27 to 7 days ago (both linear
-- decay); 3 from 30 to 27 days ago (the floor); 4 older. Cells 0-1 are band
-- 0 (the 7d window), 2-3 band 1 (the rest of 30d), 4 band 2. A time exactly
-- 7 days old is in band 1, exactly 30 days old in band 2.
-- Stable, as the timestamptz - interval operators it uses are: the planner inlines it into the refresh's
-- statement only when its declared volatility is no lower than its body's; declared immutable it ran as a
-- function call per hour bucket, twice (about 5 µs each, 19,000 calls in a refresh of 300 artists).
create or replace function coliseum_private.cell(t timestamptz, as_of timestamptz)
returns int
language sql
stable
as $$
  select case when t > as_of then 0
              when t > as_of - interval '168 hours' then 1
              when t >= as_of - interval '648 hours' then 2
              when t > as_of - interval '720 hours' then 3
              else 4 end
$$;
