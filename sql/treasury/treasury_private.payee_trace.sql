-- How much of a payee's payable is explained by what was recorded: their
-- split lines (payments, less refunds and lost disputes), less what open
-- disputes hold, less the payouts whose money left payable.
--
-- One row, returned as a set so that Postgres inlines the query into the
-- statement that calls it from FROM (check_payout_invariants, once per
-- payee; held_payouts, once per held payout): planned once with it. A SQL
-- function returning a single record is not inlined, and its query was
-- parsed and planned on every call: 0.2 ms each, ten times what running it
-- takes (check_payout_invariants 100 ms -> 15 ms at 440 payees).
create or replace function treasury_private.payee_trace(payee uuid, currency text)
returns table (payable bigint, split_lines bigint, held bigint, outstanding bigint, untraced bigint)
language sql
stable
as $$
  select t.payable, t.split_lines, t.held, t.outstanding, t.payable - (t.split_lines - t.held - t.outstanding)
  from (select
    coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
              where a.owner_id = payee and a.purpose = 'payable' and a.currency = payee_trace.currency), 0) as payable,
    coalesce((select sum(s.amount_minor) from public.treasury_splits as s
              where s.party_id = payee and s.currency = payee_trace.currency), 0)::bigint as split_lines,
    coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
              where a.owner_id = payee and a.purpose = 'held' and a.currency = payee_trace.currency), 0) as held,
    coalesce((select sum(p.amount_minor) from treasury.payouts as p
              where p.payee_id = payee and p.currency = payee_trace.currency
                and treasury_private.payout_outstanding(p.state, p.due_at)), 0)::bigint as outstanding
  ) as t
$$;

comment on function treasury_private.payee_trace(uuid, text) is
  'A payee''s payable against what recorded payments explain: split lines - held - outstanding payouts. '
  'untraced > 0: money in payable that no recorded payment put there.';
