alter table people.badges enable row level security;

-- The catalogue is public: everybody reads the active badges (with their
-- rules, which the app may show as "how to earn it"); admins also the others.
-- Changes go through people.put_badge, activate_badge and deactivate_badge.
grant select on people.badges to anon, authenticated, service_role;

drop policy if exists badges_readable on people.badges;
create policy badges_readable on people.badges
  for select to anon, authenticated
  using (active or (select people.has_role('admin')));
