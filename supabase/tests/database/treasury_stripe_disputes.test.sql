-- Treasury: disputes. charge.dispute.created holds each party's share of the disputed amount
-- (payable -> held, the platform's revenue -> dispute_reserve); charge.dispute.closed releases
-- it (won, or an inquiry closed) or writes it off against the Stripe balance (lost), like a
-- refund. Dispute fees follow the dispute's balance transactions. Replays change nothing; a
-- dispute closed before it was seen opened is opened and closed; disputes of unknown payments
-- wait for them, also when they name only the charge. A dispute's fee and status are those of
-- its newest event by Stripe's created, in whatever order its five event types arrive.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(51);
\ir treasury_helpers.psql

select pg_temp.balance(null, 'stripe_balance') as stripe_before,
       pg_temp.balance(null, 'platform_revenue') as revenue_before,
       pg_temp.balance(null, 'dispute_reserve') as reserve_before,
       pg_temp.balance(null, 'dispute_losses') as losses_before \gset

-- Won ---------------------------------------------------------------------------------------------

select pg_temp.receive('evt_pgtap_dpw_pay', 'checkout.session.completed', 1763800000,
                       pg_temp.session('pi_pgtap_dpw', 10000, :'meta')) ->> 'status' as paid \gset
select is(
  pg_temp.receive('evt_pgtap_dpw_open', 'charge.dispute.created', 1763801000,
                  pg_temp.dispute('dp_pgtap_won', 'pi_pgtap_dpw', 10000, 'needs_response', '{1500}')),
  jsonb_build_object('received', true, 'status', 'applied', 'event_id', 'evt_pgtap_dpw_open', 'type', 'charge.dispute.created',
                     'payment_id', 'pi_pgtap_dpw', 'dispute_id', 'dp_pgtap_won'),
  'a dispute is opened'
);
select results_eq(
  $$select a.purpose, a.owner_id is null, l.amount from public.treasury_ledger as l
    join treasury.accounts as a on a.id = l.account_id
    where l.kind = 'dispute_hold' and l.reference = 'dp_pgtap_won' order by l.id$$,
  $$values ('payable', false, 7000::bigint), ('held', false, -7000::bigint), ('payable', false, 2000::bigint),
           ('held', false, -2000::bigint), ('platform_revenue', true, 1000::bigint), ('dispute_reserve', true, -1000::bigint)$$,
  'the hold: each payee''s share from payable to held, the platform''s from revenue to the dispute reserve'
);
select results_eq(
  $$select a.purpose, l.amount from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
    where l.kind = 'dispute_fee' and l.reference = 'dp_pgtap_won:fee#1' order by l.id$$,
  $$values ('dispute_losses', 1500::bigint), ('stripe_balance', -1500::bigint)$$,
  'the dispute fee of its balance transaction: Dr dispute losses, Cr Stripe balance'
);
select is(pg_temp.balance(:'artist', 'payable'), 0::bigint, 'the artist''s share is no longer available');
select is(pg_temp.balance(:'artist', 'held'), 7000::bigint, 'it is held');
select is(pg_temp.balance(null, 'dispute_reserve') - :reserve_before, 1000::bigint, 'the platform''s share is reserved');
select results_eq(
  $$select d.payment_id, d.amount_minor, d.status, d.outcome, d.hold_lines, d.fee_minor, p.dispute_state
    from treasury.disputes as d join treasury.payments as p on p.id = d.payment_id where d.id = 'dp_pgtap_won'$$,
  $$values ('pi_pgtap_dpw', 10000::bigint, 'needs_response', null::text, '{7000,2000,1000}'::bigint[], 1500::bigint, 'open')$$,
  'the dispute is recorded open with what it holds; the payment is disputed'
);

select is(
  pg_temp.receive('evt_pgtap_dpw_close', 'charge.dispute.closed', 1763802000,
                  pg_temp.dispute('dp_pgtap_won', 'pi_pgtap_dpw', 10000, 'won', '{1500,-1500}')) ->> 'status',
  'applied',
  'the dispute is won'
);
select results_eq(
  $$select l.kind, a.purpose, l.amount from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
    where l.reference in ('dp_pgtap_won', 'dp_pgtap_won:fee#2') and l.kind <> 'dispute_hold' order by l.id$$,
  $$values ('dispute_fee', 'dispute_losses', -1500::bigint), ('dispute_fee', 'stripe_balance', 1500::bigint),
           ('dispute_release', 'held', 7000::bigint), ('dispute_release', 'payable', -7000::bigint),
           ('dispute_release', 'held', 2000::bigint), ('dispute_release', 'payable', -2000::bigint),
           ('dispute_release', 'dispute_reserve', 1000::bigint), ('dispute_release', 'platform_revenue', -1000::bigint)$$,
  'the returned fee is reversed and the hold released'
);
select is(pg_temp.balance(:'artist', 'payable'), 7000::bigint, 'the artist''s share is available again');
select is(pg_temp.balance(:'artist', 'held'), 0::bigint, 'nothing is held');
select is(pg_temp.balance(null, 'dispute_losses') - :losses_before, 0::bigint, 'no fee is lost in the end');
select results_eq(
  $$select d.status, d.outcome, d.closed_at, d.fee_minor, p.dispute_state
    from treasury.disputes as d join treasury.payments as p on p.id = d.payment_id where d.id = 'dp_pgtap_won'$$,
  $$values ('won', 'won', to_timestamp(1763802000), 0::bigint, 'won')$$,
  'the dispute is closed as won'
);

-- Lost ---------------------------------------------------------------------------------------------

select pg_temp.receive('evt_pgtap_dpl_pay', 'checkout.session.completed', 1763800000,
                       pg_temp.session('pi_pgtap_dpl', 5000, :'meta')) ->> 'status' as paid \gset
select pg_temp.receive('evt_pgtap_dpl_open', 'charge.dispute.created', 1763801000,
                       pg_temp.dispute('dp_pgtap_lost', 'pi_pgtap_dpl', 5000, 'needs_response')) ->> 'status' as opened \gset
select is(pg_temp.balance(:'artist', 'held'), 3500::bigint, 'a second dispute holds 3500 of the artist''s');
select is(
  pg_temp.receive('evt_pgtap_dpl_close', 'charge.dispute.closed', 1763802000,
                  pg_temp.dispute('dp_pgtap_lost', 'pi_pgtap_dpl', 5000, 'lost')) ->> 'status',
  'applied',
  'the dispute is lost'
);
select results_eq(
  $$select a.purpose, l.amount from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
    where l.kind = 'dispute_loss' and l.reference = 'dp_pgtap_lost' order by l.id$$,
  $$values ('held', 3500::bigint), ('held', 1000::bigint), ('dispute_reserve', 500::bigint), ('stripe_balance', -5000::bigint)$$,
  'the loss: the held shares and the reserve written off against the Stripe balance'
);
select is(
  (select array_agg(amount_minor order by party_index) from public.treasury_splits where payment_id = 'pi_pgtap_dpl' and reason = 'dispute'),
  '{-3500,-1000,-500}'::bigint[],
  'the lost dispute reverses the split like a refund'
);
select results_eq(
  $$select dispute_lost_minor, refunded_minor, dispute_state from treasury.payments where id = 'pi_pgtap_dpl'$$,
  $$values (5000::bigint, 0::bigint, 'lost')$$,
  'the payment records what the dispute took back'
);
select is(pg_temp.balance(:'artist', 'held'), 0::bigint, 'nothing is held any more');
select is(pg_temp.balance(:'artist', 'payable'), 7000::bigint, 'the artist lost this payment''s share');
select results_eq(
  $$select kind, payload ->> 'amount_minor', payload ->> 'payment_id' from public.passport_entries
    where client_event_id = 'stripe:dp_pgtap_lost:lost'$$,
  $$values ('treasury.refund', '5000', 'pi_pgtap_dpl')$$,
  'Passport: the chargeback is a refund to the buyer'
);

select count(*) as ledger_rows from public.treasury_ledger \gset
select is(
  pg_temp.receive('evt_pgtap_dpl_close2', 'charge.dispute.closed', 1763802001,
                  pg_temp.dispute('dp_pgtap_lost', 'pi_pgtap_dpl', 5000, 'lost')) ->> 'note',
  'already_recorded',
  'a second closed event of the dispute is already recorded'
);
select is(
  pg_temp.receive('evt_pgtap_dpl_open2', 'charge.dispute.created', 1763801001,
                  pg_temp.dispute('dp_pgtap_lost', 'pi_pgtap_dpl', 5000, 'needs_response')) ->> 'note',
  'already_recorded',
  'a created event of a closed dispute changes nothing'
);
select is((select count(*) from public.treasury_ledger), :ledger_rows::bigint, 'neither posts anything');
select is((select outcome from treasury.disputes where id = 'dp_pgtap_lost'), 'lost', 'the dispute stays lost');

-- Closed before it was seen opened ------------------------------------------------------------

select pg_temp.receive('evt_pgtap_cbc_pay', 'checkout.session.completed', 1763800000,
                       pg_temp.session('pi_pgtap_cbc', 3000, :'meta')) ->> 'status' as paid \gset
select is(
  pg_temp.receive('evt_pgtap_cbc_close', 'charge.dispute.closed', 1763802000,
                  pg_temp.dispute('dp_pgtap_cbc', 'pi_pgtap_cbc', 3000, 'lost')) ->> 'status',
  'applied',
  'a closed event of a dispute never seen is applied'
);
select is(
  (select array_agg(kind order by id) from treasury.ledger_transactions where reference = 'dp_pgtap_cbc'),
  '{dispute_hold,dispute_loss}'::text[],
  'by opening the dispute and closing it'
);
select is(
  pg_temp.receive('evt_pgtap_cbc_open', 'charge.dispute.created', 1763801000,
                  pg_temp.dispute('dp_pgtap_cbc', 'pi_pgtap_cbc', 3000, 'needs_response')) ->> 'note',
  'already_recorded',
  'its created event, arriving last, is already recorded'
);

-- Before the payment -------------------------------------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_early_open', 'charge.dispute.created', 1763801000,
                  pg_temp.dispute('dp_pgtap_early', 'pi_pgtap_early', 4000, 'warning_needs_response')),
  jsonb_build_object('received', true, 'status', 'deferred', 'note', 'waiting for payment pi_pgtap_early',
                     'event_id', 'evt_pgtap_early_open', 'type', 'charge.dispute.created'),
  'a dispute of an unknown payment is deferred'
);
select is(
  pg_temp.receive('evt_pgtap_early_pay', 'checkout.session.completed', 1763800000,
                  pg_temp.session('pi_pgtap_early', 4000, :'meta')) -> 'deferred_events',
  '[{"event_id": "evt_pgtap_early_open", "status": "applied"}]'::jsonb,
  'the payment applies it'
);
select is(pg_temp.balance(:'artist', 'held'), 2800::bigint, 'it holds the artist''s 2800');
select is(
  pg_temp.receive('evt_pgtap_early_close', 'charge.dispute.closed', 1763802000,
                  pg_temp.dispute('dp_pgtap_early', 'pi_pgtap_early', 4000, 'warning_closed')) ->> 'status',
  'applied',
  'an inquiry closed without a chargeback'
);
select results_eq(
  $$select outcome, status from treasury.disputes where id = 'dp_pgtap_early'$$,
  $$values ('won', 'warning_closed')$$,
  'counts as won: the funds are released'
);
select is(pg_temp.balance(:'artist', 'payable'), 9800::bigint, 'the artist has 7000 + 2800 available');

-- Naming only the charge, before the charge is known ----------------------------------------------

select pg_temp.receive('evt_pgtap_chg_pay', 'checkout.session.completed', 1763800000,
                       pg_temp.session('pi_pgtap_dpc', 1000, :'meta')) ->> 'status' as paid \gset
select is(
  pg_temp.receive('evt_pgtap_chg_open', 'charge.dispute.created', 1763801000,
                  pg_temp.dispute('dp_pgtap_chg', 'pi_pgtap_dpc', 1000, 'needs_response') || '{"payment_intent": null}') ->> 'note',
  'waiting for payment of charge ch_pgtap_dpc',
  'a dispute naming a charge no payment has yet is deferred'
);
select is(
  pg_temp.receive('evt_pgtap_chg_pi', 'payment_intent.succeeded', 1763800001, pg_temp.intent('pi_pgtap_dpc', 1000, :'meta')),
  jsonb_build_object('received', true, 'status', 'applied', 'note', 'already_recorded', 'event_id', 'evt_pgtap_chg_pi',
                     'type', 'payment_intent.succeeded', 'payment_id', 'pi_pgtap_dpc',
                     'deferred_events', '[{"event_id": "evt_pgtap_chg_open", "status": "applied"}]'::jsonb),
  'the event that tells the payment''s charge applies it'
);
select is(pg_temp.balance(:'artist', 'held'), 700::bigint, 'the dispute holds 700 of the artist''s (left open)');

-- After a partial refund; refused disputes ---------------------------------------------------------

select pg_temp.receive('evt_pgtap_part_pay', 'checkout.session.completed', 1763800000,
                       pg_temp.session('pi_pgtap_part', 1001, :'meta')) ->> 'status' as paid \gset
select pg_temp.receive('evt_pgtap_part_ref', 'charge.refunded', 1763800100,
                       pg_temp.charge('pi_pgtap_part', 1001, 333)) ->> 'status' as refunded \gset
select is(
  pg_temp.receive('evt_pgtap_part_open', 'charge.dispute.created', 1763801000,
                  pg_temp.dispute('dp_pgtap_part', 'pi_pgtap_part', 668, 'needs_response')) ->> 'status',
  'applied',
  'the rest of a partly refunded payment is disputed'
);
select is((select hold_lines from treasury.disputes where id = 'dp_pgtap_part'), '{468,133,67}'::bigint[],
          'the hold is allocated after the refund: allocate_refund(1001, shares, 333, 1001)');
select is(
  pg_temp.receive('evt_pgtap_part_extra', 'charge.dispute.created', 1763801001,
                  pg_temp.dispute('dp_pgtap_part_extra', 'pi_pgtap_part', 1, 'needs_response')) ->> 'note',
  'dispute dp_pgtap_part_extra of 1 exceeds what is left of payment pi_pgtap_part (1001, of which 333 refunded or lost and 668 disputed)',
  'a dispute beyond what is left of the payment fails'
);
select is(
  pg_temp.receive('evt_pgtap_part_bad', 'charge.dispute.closed', 1763802000,
                  pg_temp.dispute('dp_pgtap_part', 'pi_pgtap_part', 668, 'needs_response')) ->> 'note',
  'a closed dispute must be won, lost or warning_closed, got needs_response',
  'a closed event with an open status fails'
);
select is(
  pg_temp.receive('evt_pgtap_part_long', 'charge.dispute.created', 1763801002,
                  pg_temp.dispute('dp_' || repeat('x', 198), 'pi_pgtap_part', 1, 'needs_response')) ->> 'note',
  'data.object.id must be the dispute id, of at most 200 characters',
  'a dispute id too long for its ledger references fails (answered, never raised)'
);
select pg_temp.receive('evt_pgtap_part_lost', 'charge.dispute.closed', 1763802001,
                       pg_temp.dispute('dp_pgtap_part', 'pi_pgtap_part', 668, 'lost')) ->> 'status' as lost \gset
select is(
  (select array_agg(total order by party_index) from (
     select party_index, sum(amount_minor) as total from public.treasury_splits
     where payment_id = 'pi_pgtap_part' group by party_index) as s),
  '{0,0,0}'::numeric[],
  'refund and lost dispute together return every party to zero'
);

-- Every arrival order -------------------------------------------------------------------------------
-- A dispute's events as Stripe sends them, each with the dispute object as it was then: opened with
-- its fee withdrawn (created and funds_withdrawn in the same second), under review, then won (the
-- funds and the fee reinstated, then closed, in the same second) or lost. Each order of a fresh
-- payment must end the same: the fee of the newest state, the outcome of closed.

create function pg_temp.dispute_orders(outcome text, meta jsonb)
returns table (sequence text, statuses text, fee bigint, closed text, status text, losses bigint, stripe bigint, held bigint)
language plpgsql
as $$
declare
  events text[] := case when outcome = 'won'
                     then array['created', 'funds_withdrawn', 'updated', 'funds_reinstated', 'closed']
                     else array['created', 'funds_withdrawn', 'updated', 'closed'] end;
  created jsonb := '{"created": 1763801000, "funds_withdrawn": 1763801000, "updated": 1763801500,
                     "funds_reinstated": 1763802000, "closed": 1763802000}';
  order_no int := 0;
  pi text;
  dp text;
  kind text;
  losses_before bigint;
  stripe_before bigint;
begin
  for sequence in
    with recursive orders(seq) as (
      select array[]::text[]
      union all
      select o.seq || e.name from orders as o cross join unnest(events) as e(name) where e.name <> all(o.seq))
    select array_to_string(o.seq, ' ') from orders as o where cardinality(o.seq) = cardinality(events)
  loop
    order_no := order_no + 1;
    pi := format('pi_pgtap_dpo_%s_%s', outcome, order_no);
    dp := format('dp_pgtap_dpo_%s_%s', outcome, order_no);
    perform pg_temp.receive('evt_' || pi, 'checkout.session.completed', 1763800000, pg_temp.session(pi, 10000, meta));
    losses_before := pg_temp.balance(null, 'dispute_losses');
    stripe_before := pg_temp.balance(null, 'stripe_balance');
    statuses := '';
    foreach kind in array string_to_array(sequence, ' ') loop
      statuses := statuses || (pg_temp.receive(format('evt_%s_%s', dp, kind), 'charge.dispute.' || kind, (created ->> kind)::bigint,
        pg_temp.dispute(dp, pi, 10000,
          case kind when 'updated' then 'under_review' when 'funds_reinstated' then 'won' when 'closed' then outcome else 'needs_response' end,
          case when kind = 'funds_reinstated' or (kind = 'closed' and outcome = 'won') then '{1500,-1500}'::bigint[] else '{1500}' end))
        ->> 'status') || ' ';
    end loop;
    select d.fee_minor, d.outcome, d.status into fee, closed, status from treasury.disputes as d where d.id = dp;
    losses := pg_temp.balance(null, 'dispute_losses') - losses_before;
    stripe := pg_temp.balance(null, 'stripe_balance') - stripe_before;
    held := (select coalesce(sum(l.amount), 0) from public.treasury_ledger as l
             where l.reference = dp and l.kind in ('dispute_hold', 'dispute_release', 'dispute_loss')
               and l.account_id in (select a.id from treasury.accounts as a where a.purpose in ('held', 'dispute_reserve')));
    return next;
  end loop;
end
$$;

create temp table dispute_orders as
  select 'won' as outcome, o.* from pg_temp.dispute_orders('won', :'meta') as o
  union all
  select 'lost', o.* from pg_temp.dispute_orders('lost', :'meta') as o;

select results_eq(
  $$select outcome, count(*) from dispute_orders group by outcome order by outcome$$,
  $$values ('lost', 24::bigint), ('won', 120::bigint)$$,
  'every order of the five events of a won dispute and the four of a lost one'
);
select is_empty(
  $$select sequence, statuses from dispute_orders where statuses <> repeat('applied ', cardinality(string_to_array(trim(sequence), ' ')))$$,
  'every event of every order is applied'
);
-- Won: no fee in the end (a late created does not bring its fee back), the hold released, the Stripe
-- balance as it was. Lost: the fee once, the hold written off, the amount and the fee out of the
-- Stripe balance.
select is_empty(
  $$select o.outcome, o.sequence, o.fee, o.closed, o.status, o.held, o.losses, o.stripe
    from dispute_orders as o
    join (values ('won', 0::bigint, 0::bigint), ('lost', 1500, -11500)) as want(outcome, fee, stripe) on want.outcome = o.outcome
    where (o.fee, o.closed, o.status, o.held, o.losses, o.stripe)
          is distinct from (want.fee, o.outcome, o.outcome, 0::bigint, want.fee, want.stripe)$$,
  'every order of a dispute''s events ends with the fee, status and money of its newest state'
);

-- A fee total that comes back (withdrawn, reinstated, withdrawn again) posts each change: the third
-- change is not refused as the first one posted again.
select pg_temp.receive('evt_pgtap_dpf_pay', 'checkout.session.completed', 1763900000,
                       pg_temp.session('pi_pgtap_dpf', 10000, :'meta')) ->> 'status' as paid \gset
select is(
  (select array_agg(pg_temp.receive('evt_pgtap_dpf_' || n, 'charge.dispute.updated', 1763900000 + n,
                      pg_temp.dispute('dp_pgtap_fee_again', 'pi_pgtap_dpf', 10000, 'under_review', fees)) ->> 'status' order by n)
   from (values (1, '{1500}'::bigint[]), (2, '{1500,-1500}'), (3, '{1500,-1500,1500}')) as e(n, fees)),
  '{applied,applied,applied}'::text[],
  'a fee withdrawn, reinstated and withdrawn again: each state is applied'
);
select results_eq(
  $$select l.reference, (sum(l.amount) filter (where a.purpose = 'dispute_losses'))::bigint from public.treasury_ledger as l
    join treasury.accounts as a on a.id = l.account_id
    where l.kind = 'dispute_fee' and l.reference like 'dp_pgtap_fee_again:%' group by l.reference order by l.reference$$,
  $$values ('dp_pgtap_fee_again:fee#1', 1500::bigint), ('dp_pgtap_fee_again:fee#2', -1500::bigint), ('dp_pgtap_fee_again:fee#3', 1500::bigint)$$,
  'each change of the fee total is its own numbered transaction, also when a total comes back'
);
select is((select fee_minor from treasury.disputes where id = 'dp_pgtap_fee_again'), 1500::bigint, 'the fee is that of the newest state');

select is(pg_temp.balance(:'artist', 'payable'), 9800::bigint + 120 * 7000, 'in the end the artist has 9800 available, and the 120 won payments');
select is_empty($$select * from treasury.check_invariants()$$, 'the ledger invariants hold (one dispute still open)');

select * from finish();
rollback;
