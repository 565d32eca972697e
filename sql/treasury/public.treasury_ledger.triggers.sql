create or replace trigger treasury_ledger_append_only
  before update or delete or truncate on public.treasury_ledger
  for each statement execute function treasury_private.refuse_change();

alter table public.treasury_ledger enable always trigger treasury_ledger_append_only;

drop trigger if exists treasury_ledger_balanced on public.treasury_ledger;
create constraint trigger treasury_ledger_balanced
  after insert on public.treasury_ledger
  deferrable initially deferred
  for each row execute function treasury_private.check_balanced();

alter table public.treasury_ledger enable always trigger treasury_ledger_balanced;

create or replace trigger treasury_ledger_balances
  after insert on public.treasury_ledger
  referencing new table as new_postings
  for each statement execute function treasury_private.apply_to_balances();

alter table public.treasury_ledger enable always trigger treasury_ledger_balances;
