alter table treasury.ledger_transactions enable row level security;

grant select on treasury.ledger_transactions to authenticated, service_role;

drop policy if exists ledger_transactions_admin_reads on treasury.ledger_transactions;
create policy ledger_transactions_admin_reads on treasury.ledger_transactions
  for select to authenticated using ((select treasury.is_admin()));
