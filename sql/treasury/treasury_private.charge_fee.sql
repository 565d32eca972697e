-- The fee of a charge when its balance transaction is expanded in the event
-- and counts in the payment's currency; else null.
create or replace function treasury_private.charge_fee(charge jsonb, currency text)
returns bigint
language sql
immutable
as $$
  select case
    when jsonb_typeof(charge -> 'balance_transaction') = 'object'
         and coalesce(treasury_private.currency_of(charge -> 'balance_transaction' -> 'currency'), currency) = currency
         and treasury_private.json_bigint(charge -> 'balance_transaction' -> 'fee') >= 0
      then treasury_private.json_bigint(charge -> 'balance_transaction' -> 'fee')
  end
$$;
