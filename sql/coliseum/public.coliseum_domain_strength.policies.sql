alter table public.coliseum_domain_strength enable row level security;

revoke all on public.coliseum_domain_strength
  from anon, authenticated, service_role;

-- Which rows each plan sees is the policy below.
grant select on public.coliseum_domain_strength to anon, authenticated, service_role;

-- The artist always sees their own rows; other rows as the plan shows them.
drop policy if exists domain_strength_plan_reads on public.coliseum_domain_strength;
create policy domain_strength_plan_reads on public.coliseum_domain_strength
  for select to anon, authenticated
  using (
    artist_id = (select auth.uid())
    or domain in (select coliseum.boards_shown_in_full())
    or (domain, period, artist_id) in (select r.domain, r.period, r.artist_id from coliseum.rows_shown() as r)
  );
