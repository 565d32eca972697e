alter table coliseum.user_plans enable row level security;

revoke all on coliseum.user_plans from anon, authenticated, service_role;

-- No write grant for anyone but the owner: a plan changes only through
-- coliseum.set_plan, which also logs the change to Passport.
grant select on coliseum.user_plans to authenticated, service_role;

drop policy if exists user_plans_own_row on coliseum.user_plans;
create policy user_plans_own_row on coliseum.user_plans
  for select to authenticated using (user_id = (select auth.uid()));
