alter table people.notification_kinds enable row level security;

grant select on people.notification_kinds to anon, authenticated, service_role;

drop policy if exists notification_kinds_readable on people.notification_kinds;
create policy notification_kinds_readable on people.notification_kinds
  for select to anon, authenticated using (true);
