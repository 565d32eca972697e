alter table treasury.payout_attempts enable row level security;

grant select on treasury.payout_attempts
  to authenticated, service_role;

drop policy if exists payout_attempts_admin_reads on treasury.payout_attempts;
create policy payout_attempts_admin_reads on treasury.payout_attempts
  for select to authenticated using ((select treasury.is_admin()));
