-- What the policy below needs to know of the caller's plan, computed once
-- per statement (both are uncorrelated subqueries of the policy):
--   coliseum.boards_shown_in_full(): the domains whose boards the plan shows
--     without a depth limit (all of them for a role not subject to plans);
--   coliseum.rows_shown(): the rows of the other boards the plan includes
--     that are within its depth, i.e. the first `depth` rows of each board in
--     the board index's order: an index scan of `depth` entries per board.
-- A row is then checked by two hash probes. Both answer only
-- for the caller's own plan, so they tell nothing the caller could not read;
-- they are callable by the API roles because policies run as the caller.
create or replace function coliseum.boards_shown_in_full()
returns setof text
language sql
stable
security definer
set search_path = ''
as $$
  select d.domain
  from (select coliseum.my_plan() as plan) as caller
  left join coliseum.plans as p on p.plan = caller.plan
  cross join unnest(case when caller.plan is null then array['A', 'T', 'G', 'C', 'overall'] else p.domains end) as d(domain)
  where caller.plan is null or p.depth is null
$$;

comment on function coliseum.boards_shown_in_full() is
  'Row level security helper: the domains whose boards the caller''s plan shows in full.';

grant execute on function coliseum.boards_shown_in_full() to anon, authenticated;
