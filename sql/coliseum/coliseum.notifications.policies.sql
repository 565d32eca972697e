alter table coliseum.notifications enable row level security;

-- The artist reads their notifications and may mark them read.
grant select on coliseum.notifications to authenticated, service_role;

grant update (read_at) on coliseum.notifications to authenticated;

drop policy if exists notifications_artist_reads on coliseum.notifications;
create policy notifications_artist_reads on coliseum.notifications
  for select to authenticated using (artist_id = (select auth.uid()));

drop policy if exists notifications_artist_marks_read on coliseum.notifications;
create policy notifications_artist_marks_read on coliseum.notifications
  for update to authenticated
  using (artist_id = (select auth.uid()))
  with check (artist_id = (select auth.uid()));
