alter table treasury.payouts enable row level security;

grant select on treasury.payouts
  to authenticated, service_role;

drop policy if exists payouts_payee_reads on treasury.payouts;
create policy payouts_payee_reads on treasury.payouts
  for select to authenticated using (payee_id = (select auth.uid()) or (select treasury.is_admin()));
