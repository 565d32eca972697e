create or replace function treasury.check_payout_invariants()
returns table (invariant text, reference text, detail text)
language sql
stable
security definer
set search_path = ''
-- Its cost is one inlined trace per payee (a few index probes each), which the planner's estimate counts up past
-- jit_above_cost at a few hundred payees; compiling that plan took 150 of 170 ms a call (2,193 payments, 440
-- payees) and speeds up none of the probes.
set jit = off
as $$
  with located as (
    select p.id, p.payee_id, p.currency, p.amount_minor, p.state, p.transitions,
           treasury_private.payout_location(p.state, p.due_at) as location
    from treasury.payouts as p
  ),
  expected as (
    select l.currency, l.location as purpose, sum(l.amount_minor) as amount
    from located as l
    where l.location in ('payouts_held', 'payouts_queued', 'payouts_in_transit')
    group by 1, 2
  ),
  actual as (
    select a.currency, a.purpose, -coalesce(b.balance, 0) as amount
    from treasury.accounts as a
    left join treasury.account_balances as b on b.account_id = a.id
    where a.owner_id is null and a.purpose in ('payouts_held', 'payouts_queued', 'payouts_in_transit')
  ),
  -- What each payout transition's ledger transaction took out of payable, summed once per transaction and
  -- joined (a subquery per transition hashed every account each time: 115 of 200 ms at 1,459 transitions).
  payable_moves as (
    select l.txn_id, sum(l.amount) as amount
    from public.treasury_ledger as l
    join treasury.accounts as a on a.id = l.account_id
    where a.purpose = 'payable' and l.txn_id in (select t.ledger_txn_id from treasury.payout_transitions as t)
    group by l.txn_id
  ),
  moved as (
    select t.payout_id, count(*) as transitions, max(t.seq) as last_seq,
           sum(coalesce(pm.amount, 0)) as out_of_payable
    from treasury.payout_transitions as t
    left join payable_moves as pm on pm.txn_id = t.ledger_txn_id
    group by t.payout_id
  ),
  last_state as (
    select distinct on (t.payout_id) t.payout_id, t.to_state
    from treasury.payout_transitions as t
    order by t.payout_id, t.seq desc
  ),
  payees as (
    select distinct a.owner_id, a.currency from treasury.accounts as a where a.purpose = 'payable' and a.owner_id is not null
  )
  select v.invariant, v.reference, v.detail
  from (
    select 'payout_account_mismatch' as invariant, coalesce(e.purpose, x.purpose) || ' ' || coalesce(e.currency, x.currency) as reference,
           format('the payouts kept there sum to %s, the account holds %s', coalesce(e.amount, 0), coalesce(x.amount, 0)) as detail
    from expected as e
    full join actual as x on x.currency = e.currency and x.purpose = e.purpose
    where coalesce(e.amount, 0) <> coalesce(x.amount, 0)
    union all
    select 'payout_posting_mismatch', l.id::text,
           format('%s: its transactions took %s out of payable, expected %s', l.state, coalesce(m.out_of_payable, 0),
                  case when l.location = 'payable' then 0 else l.amount_minor end)
    from located as l
    left join moved as m on m.payout_id = l.id
    where coalesce(m.out_of_payable, 0) <> case when l.location = 'payable' then 0 else l.amount_minor end
    union all
    select 'payout_transition_chain', l.id::text,
           format('state %s after %s transitions; logged: %s transitions, the last to %s', l.state, l.transitions,
                  coalesce(m.transitions, 0), coalesce(s.to_state, 'none'))
    from located as l
    left join moved as m on m.payout_id = l.id
    left join last_state as s on s.payout_id = l.id
    where m.transitions is distinct from l.transitions::bigint or m.last_seq is distinct from l.transitions
       or s.to_state is distinct from l.state
    union all
    select 'untraced_payable', p.owner_id::text || ' ' || p.currency,
           format('payable %s, explained by recorded payments %s (split lines %s - held %s - payouts %s)', t.payable,
                  t.payable - t.untraced, t.split_lines, t.held, t.outstanding)
    from payees as p
    cross join lateral treasury_private.payee_trace(p.owner_id, p.currency) as t
    where t.untraced <> 0
  ) as v
  order by v.invariant, v.reference
$$;

comment on function treasury.check_payout_invariants() is
  'One row per violated payout invariant, none when all is well: payout_account_mismatch (payouts_held, '
  'payouts_queued, payouts_in_transit vs the payouts in those states), payout_posting_mismatch (a payout''s '
  'transactions vs its state), payout_transition_chain (the log vs the row), untraced_payable (a payee''s payable '
  'vs split lines - held - outstanding payouts). For checks and tests, next to treasury.check_invariants().';

grant execute on function treasury.check_payout_invariants() to service_role;
