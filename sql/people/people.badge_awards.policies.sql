alter table people.badge_awards enable row level security;

-- A user reads their own awards, admins every award; people.user_badges shows
-- the public part of anybody's. Only the processor and the monthly job write.
grant select on people.badge_awards to authenticated, service_role;

drop policy if exists badge_awards_own_or_admin on people.badge_awards;
create policy badge_awards_own_or_admin on people.badge_awards
  for select to authenticated
  using (user_id = (select auth.uid()) or (select people.has_role('admin')));
