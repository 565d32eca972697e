create or replace trigger account_balances_kept_by_ledger
  before insert or update or delete or truncate on treasury.account_balances
  for each statement execute function treasury_private.guard_balances();
