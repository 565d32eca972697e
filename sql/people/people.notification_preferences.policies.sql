alter table people.notification_preferences enable row level security;

-- A user reads and sets their own choices.
grant select, insert, update, delete on people.notification_preferences to authenticated;
grant select on people.notification_preferences to service_role;

drop policy if exists notification_preferences_own on people.notification_preferences;
create policy notification_preferences_own on people.notification_preferences
  for all to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
