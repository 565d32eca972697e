alter table passport.event_kinds enable row level security;

drop policy if exists event_kinds_are_public on passport.event_kinds;
create policy event_kinds_are_public on passport.event_kinds
  for select to anon, authenticated, service_role
  using (true);

grant select on passport.event_kinds to anon, authenticated, service_role;
