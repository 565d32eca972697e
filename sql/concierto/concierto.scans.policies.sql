alter table concierto.scans enable row level security;

grant select on concierto.scans to authenticated, service_role;

drop policy if exists scans_staff_reads on concierto.scans;
create policy scans_staff_reads on concierto.scans
  for select to authenticated using (
    event_id in (select e.id from concierto.events as e
                 where e.host_id = (select auth.uid())
                    or e.host_id in (select s.host_id from concierto.staff as s where s.user_id = (select auth.uid()))));
