-- Adds sums of postings to account_balances: one upsert, one row per
-- account, written in account order so that concurrent writers take the rows'
-- locks in one order. The one place balances are written: per ledger
-- statement (apply_to_balances) and per batch of Stripe events
-- (flush_balance_deltas). Each array holds one item per sum; an account may
-- appear more than once.
create or replace function treasury_private.add_to_balances(account_ids bigint[], currencies bpchar[], amounts bigint[], counts bigint[])
returns void
language plpgsql
volatile
as $$
begin
  insert into treasury.account_balances as b (account_id, currency, balance, entries, updated_at)
  select u.account_id, u.currency, sum(u.amount)::bigint, sum(u.entries)::bigint, now()
  from unnest(account_ids, currencies, amounts, counts) as u(account_id, currency, amount, entries)
  group by u.account_id, u.currency
  order by u.account_id
  on conflict (account_id) do update
    set balance = b.balance + excluded.balance,
        entries = b.entries + excluded.entries,
        updated_at = excluded.updated_at;
end
$$;
