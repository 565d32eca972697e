alter table treasury.account_balances enable row level security;

grant select on treasury.account_balances to authenticated, service_role;

drop policy if exists account_balances_owner_reads on treasury.account_balances;
create policy account_balances_owner_reads on treasury.account_balances
  for select to authenticated using (
    (select treasury.is_admin())
    or exists (select 1 from treasury.accounts as a where a.id = account_id and a.owner_id = (select auth.uid())));
