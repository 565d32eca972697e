-- Folds the postings a batch collected in balance_deltas into account_balances
-- (treasury_private.add_to_balances: one upsert per account, in account
-- order). A deferred constraint trigger on balance_deltas:
-- treasury.apply_stripe_events runs it at the batch's end (set constraints
-- ... immediate), and it would run at commit for a batch that did not. Only
-- the first of its queued calls has work; the others see the flag cleared and
-- return.
create or replace function treasury_private.flush_balance_deltas()
returns trigger
language plpgsql
as $$
declare
  ids bigint[];
  currencies bpchar[];
  amounts bigint[];
  counts bigint[];
begin
  if current_setting('treasury.balance_deltas', true) is distinct from 'pending' then
    return null;
  end if;
  perform set_config('treasury.balance_deltas', 'flushed', true);
  with moved as (
    delete from treasury_private.balance_deltas as d
    where true
    returning d.account_id, d.currency, d.amount, d.entries
  )
  select array_agg(m.account_id), array_agg(m.currency), array_agg(m.amount), array_agg(m.entries)
  into ids, currencies, amounts, counts
  from moved as m;
  perform treasury_private.add_to_balances(ids, currencies, amounts, counts);
  return null;
end
$$;
