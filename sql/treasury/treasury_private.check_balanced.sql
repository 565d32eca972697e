-- At commit (deferred), every transaction a new posting belongs to must sum
-- to zero in the posting's currency, however the rows were inserted.
-- Security definer: the check runs at COMMIT as whoever committed, and under
-- row level security a payee (a payout request through the API) would see
-- only their own side of the transaction.
create or replace function treasury_private.check_balanced()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  imbalance numeric;
begin
  select sum(l.amount) into imbalance
  from public.treasury_ledger as l
  where l.txn_id = new.txn_id and l.currency = new.currency;
  if imbalance <> 0 then
    raise exception using
      errcode = '23514',
      message = format('ledger transaction %s (%s %s) does not balance in %s: debits exceed credits by %s',
                       new.txn_id, new.kind, new.reference, new.currency, imbalance),
      hint = 'The postings of a transaction must sum to zero per currency (debits positive, credits negative).';
  end if;
  return null;
end
$$;
