-- Keeps account_balances for every INSERT into the ledger, whoever makes it:
-- one upsert per statement (treasury_private.add_to_balances), under the
-- currencies' locks. Inside a batch of treasury.apply_stripe_events the
-- statement's sums go to balance_deltas instead, and reach account_balances
-- once per account when the batch ends (treasury_private.flush_balance_deltas).
create or replace function treasury_private.apply_to_balances()
returns trigger
language plpgsql
as $$
begin
  perform treasury_private.lock_currency(c.currency)
  from (select distinct n.currency from new_postings as n order by n.currency) as c;

  if current_setting('treasury.batch_balances', true) = 'on' then
    insert into treasury_private.balance_deltas (account_id, currency, amount, entries)
    select n.account_id, n.currency, sum(n.amount)::bigint, count(*)
    from new_postings as n
    group by n.account_id, n.currency;
    perform set_config('treasury.balance_deltas', 'pending', true);
    return null;
  end if;

  perform treasury_private.add_to_balances(array_agg(n.account_id), array_agg(n.currency), array_agg(n.amount::bigint), array_agg(1::bigint))
  from new_postings as n;
  return null;
end
$$;
