create or replace trigger ledger_transactions_append_only
  before update or delete or truncate on treasury.ledger_transactions
  for each statement execute function treasury_private.refuse_change();

alter table treasury.ledger_transactions enable always trigger ledger_transactions_append_only;
