alter table people.notifications enable row level security;

-- A user reads their own notifications (realtime delivers them under this
-- policy too) and marks them read; the systems write through
-- people_private.notify.
grant select on people.notifications to authenticated, service_role;
grant update (read_at) on people.notifications to authenticated;

drop policy if exists notifications_own_reads on people.notifications;
create policy notifications_own_reads on people.notifications
  for select to authenticated using (user_id = (select auth.uid()));

drop policy if exists notifications_own_marks_read on people.notifications;
create policy notifications_own_marks_read on people.notifications
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
