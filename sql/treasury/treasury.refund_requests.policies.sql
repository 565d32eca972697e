alter table treasury.refund_requests enable row level security;

grant select on treasury.refund_requests to authenticated, service_role;

drop policy if exists refund_requests_admin_reads on treasury.refund_requests;
create policy refund_requests_admin_reads on treasury.refund_requests
  for select to authenticated using ((select treasury.is_admin()));
