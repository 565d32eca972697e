alter table coliseum.fans enable row level security;

-- A fan reads what Coliseum knows of them.
grant select on coliseum.fans to authenticated, service_role;

drop policy if exists fans_own_row on coliseum.fans;
create policy fans_own_row on coliseum.fans
  for select to authenticated using (fan_id = (select auth.uid()));
