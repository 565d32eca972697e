-- Folds the postings a batch collected in balance_deltas into account_balances,
-- one upsert per account in account order. A deferred constraint trigger on
-- balance_deltas: treasury.apply_stripe_events runs it at the batch's end
-- (set constraints ... immediate), and it would run at commit for a batch
-- that did not. Only the first of its queued calls has work; the others see
-- the flag cleared and return.
create or replace function treasury_private.flush_balance_deltas()
returns trigger
language plpgsql
as $$
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
  insert into treasury.account_balances as b (account_id, currency, balance, entries, updated_at)
  select m.account_id, m.currency, sum(m.amount)::bigint, sum(m.entries)::bigint, now()
  from moved as m
  group by m.account_id, m.currency
  order by m.account_id
  on conflict (account_id) do update
    set balance = b.balance + excluded.balance,
        entries = b.entries + excluded.entries,
        updated_at = excluded.updated_at;
  return null;
end
$$;
