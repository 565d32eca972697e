alter table treasury.payments enable row level security;

grant select on treasury.payments to authenticated, service_role;

drop policy if exists payments_buyer_reads on treasury.payments;
create policy payments_buyer_reads on treasury.payments
  for select to authenticated using (buyer_id = (select auth.uid()) or (select treasury.is_admin()));
