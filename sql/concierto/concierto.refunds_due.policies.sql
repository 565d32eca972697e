alter table concierto.refunds_due enable row level security;

grant select on concierto.refunds_due to authenticated, service_role;

drop policy if exists refunds_due_admin_reads on concierto.refunds_due;
create policy refunds_due_admin_reads on concierto.refunds_due
  for select to authenticated using ((select treasury.is_admin()));
