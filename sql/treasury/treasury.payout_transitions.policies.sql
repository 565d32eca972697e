alter table treasury.payout_transitions enable row level security;

grant select on treasury.payout_transitions
  to authenticated, service_role;

drop policy if exists payout_transitions_payee_reads on treasury.payout_transitions;
create policy payout_transitions_payee_reads on treasury.payout_transitions
  for select to authenticated using (
    (select treasury.is_admin())
    or exists (select 1 from treasury.payouts as p where p.id = payout_id and p.payee_id = (select auth.uid())));
