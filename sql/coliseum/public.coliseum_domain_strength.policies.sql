alter table public.coliseum_domain_strength enable row level security;

revoke all on public.coliseum_domain_strength
  from anon, authenticated, service_role;

-- Which rows each plan sees is the policy below.
grant select on public.coliseum_domain_strength to anon, authenticated, service_role;

-- The artist always sees their own rows; other rows as the plan shows them,
-- except those of artists held off the boards (coliseum.held_artists(), read
-- once per statement and probed per row like the plan's helpers; rows_shown
-- leaves them out already).
drop policy if exists domain_strength_plan_reads on public.coliseum_domain_strength;
create policy domain_strength_plan_reads on public.coliseum_domain_strength
  for select to anon, authenticated
  using (
    artist_id = (select auth.uid())
    or (domain in (select coliseum.boards_shown_in_full()) and artist_id not in (select coliseum.held_artists()))
    or (domain, period, artist_id) in (select r.domain, r.period, r.artist_id from coliseum.rows_shown() as r)
  );
