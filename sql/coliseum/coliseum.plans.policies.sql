alter table coliseum.plans enable row level security;

revoke all on coliseum.plans from anon, authenticated, service_role;

grant select on coliseum.plans to anon, authenticated, service_role;

drop policy if exists plans_are_public on coliseum.plans;
create policy plans_are_public on coliseum.plans
  for select to anon, authenticated using (true);
