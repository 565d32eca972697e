alter table concierto.staff enable row level security;

grant select on concierto.staff to authenticated, service_role;

drop policy if exists staff_host_or_member_reads on concierto.staff;
create policy staff_host_or_member_reads on concierto.staff
  for select to authenticated using (host_id = (select auth.uid()) or user_id = (select auth.uid()));
