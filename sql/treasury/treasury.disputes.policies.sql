alter table treasury.disputes enable row level security;

grant select on treasury.disputes to authenticated, service_role;

drop policy if exists disputes_admin_reads on treasury.disputes;
create policy disputes_admin_reads on treasury.disputes
  for select to authenticated using ((select treasury.is_admin()));
