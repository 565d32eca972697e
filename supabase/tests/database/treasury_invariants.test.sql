-- Treasury: treasury.check_invariants() returns nothing after a realistic mix of Stripe
-- events (payments, duplicates, out-of-order refunds, partial and full refunds, disputes won
-- and lost, fees), and one row per violation when the ledger is deliberately corrupted the
-- ways the database otherwise prevents or that only show across tables.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(13);
\ir treasury_helpers.psql

-- A mix of everything ---------------------------------------------------------------------------

select count(*) as events from (
  select pg_temp.receive(e.id, e.type, e.created, e.object)
  from (values
    (1, 'evt_pgtap_inv_r2', 'charge.refunded', 1763800300, pg_temp.charge('pi_pgtap_inv_a', 7777, 7777)),
    (2, 'evt_pgtap_inv_r1', 'charge.refunded', 1763800200, pg_temp.charge('pi_pgtap_inv_a', 7777, 1234)),
    (3, 'evt_pgtap_inv_a', 'checkout.session.completed', 1763800100, pg_temp.session('pi_pgtap_inv_a', 7777, :'meta')),
    (4, 'evt_pgtap_inv_a', 'checkout.session.completed', 1763800100, pg_temp.session('pi_pgtap_inv_a', 7777, :'meta')),
    (5, 'evt_pgtap_inv_a_pi', 'payment_intent.succeeded', 1763800101,
     pg_temp.intent('pi_pgtap_inv_a', 7777, :'meta', '{"id": "ch_pgtap_inv_a", "balance_transaction": {"fee": 256, "currency": "eur"}}')),
    (6, 'evt_pgtap_inv_b', 'payment_intent.succeeded', 1763800400, pg_temp.intent('pi_pgtap_inv_b', 3333, :'meta')),
    (7, 'evt_pgtap_inv_b_r', 'charge.refunded', 1763800500, pg_temp.charge('pi_pgtap_inv_b', 3333, 1111)),
    (8, 'evt_pgtap_inv_b_dp', 'charge.dispute.created', 1763800600, pg_temp.dispute('dp_pgtap_inv_b', 'pi_pgtap_inv_b', 2222, 'needs_response', '{1500}')),
    (9, 'evt_pgtap_inv_b_dpc', 'charge.dispute.closed', 1763800700, pg_temp.dispute('dp_pgtap_inv_b', 'pi_pgtap_inv_b', 2222, 'lost', '{1500}')),
    (10, 'evt_pgtap_inv_c', 'checkout.session.completed', 1763800800, pg_temp.session('pi_pgtap_inv_c', 999, :'meta')),
    (11, 'evt_pgtap_inv_c_dp', 'charge.dispute.created', 1763800900, pg_temp.dispute('dp_pgtap_inv_c', 'pi_pgtap_inv_c', 999, 'needs_response')),
    (12, 'evt_pgtap_inv_d_dp', 'charge.dispute.created', 1763801000, pg_temp.dispute('dp_pgtap_inv_d', 'pi_pgtap_inv_d', 500, 'needs_response')),
    (13, 'evt_pgtap_inv_d', 'checkout.session.completed', 1763800950, pg_temp.session('pi_pgtap_inv_d', 500, :'meta')),
    (14, 'evt_pgtap_inv_d_dpc', 'charge.dispute.closed', 1763801100, pg_temp.dispute('dp_pgtap_inv_d', 'pi_pgtap_inv_d', 500, 'won'))
  ) as e(n, id, type, created, object)
  order by e.n
) as applied \gset

select results_eq(
  $$select event_id, status from treasury.stripe_events where event_id like 'evt_pgtap_inv_%' order by event_id$$,
  $$values ('evt_pgtap_inv_a', 'applied'), ('evt_pgtap_inv_a_pi', 'applied'), ('evt_pgtap_inv_b', 'applied'),
           ('evt_pgtap_inv_b_dp', 'applied'), ('evt_pgtap_inv_b_dpc', 'applied'), ('evt_pgtap_inv_b_r', 'applied'),
           ('evt_pgtap_inv_c', 'applied'), ('evt_pgtap_inv_c_dp', 'applied'), ('evt_pgtap_inv_d', 'applied'),
           ('evt_pgtap_inv_d_dp', 'applied'), ('evt_pgtap_inv_d_dpc', 'applied'), ('evt_pgtap_inv_r1', 'applied'),
           ('evt_pgtap_inv_r2', 'applied')$$,
  'every event of the mix was applied (the redelivery as a duplicate, the early ones once their payment came)'
);
select results_eq(
  $$select id, refunded_minor, dispute_lost_minor, dispute_state from treasury.payments where id like 'pi_pgtap_inv_%' order by id$$,
  $$values ('pi_pgtap_inv_a', 7777::bigint, 0::bigint, null::text), ('pi_pgtap_inv_b', 1111, 2222, 'lost'),
           ('pi_pgtap_inv_c', 0, 0, 'open'), ('pi_pgtap_inv_d', 0, 0, 'won')$$,
  'the payments end where Stripe says'
);
select is(pg_temp.balance(:'artist', 'payable') + pg_temp.balance(:'artist', 'held'),
          (select sum(amount_minor)::bigint from public.treasury_splits where party_id = :'artist'),
          'the artist''s payable and held add up to their split lines');
select is_empty($$select * from treasury.check_invariants()$$, 'no invariant is violated');

-- Forced violations ------------------------------------------------------------------------------

select id as artist_payable from treasury.accounts where owner_id = :'artist' and purpose = 'payable' \gset
select id as host_payable from treasury.accounts where owner_id = :'host' and purpose = 'payable' \gset
select treasury_private.account(:'artist', 'held', 'EUR') as artist_held,
       treasury_private.account(null, 'stripe_balance', 'EUR') as stripe \gset

-- A balance row that does not match its postings (its guard is lifted for the owner, here).
alter table treasury.account_balances disable trigger account_balances_kept_by_ledger;
update treasury.account_balances set balance = balance - 1 where account_id = :artist_payable;
alter table treasury.account_balances enable trigger account_balances_kept_by_ledger;
select results_eq(
  format($$select invariant, detail from treasury.check_invariants() where reference = '%s'$$, :artist_payable),
  format($$values ('balance_mismatch', 'account_balances holds %s, the postings sum to %s')$$,
         (select balance from treasury.account_balances where account_id = :artist_payable),
         (select sum(amount) from public.treasury_ledger where account_id = :artist_payable)),
  'a corrupted account_balances row is reported'
);

-- More taken out of a payee's payable than it holds.
select treasury_private.post('test_overdraw', 'pgtap-inv', jsonb_build_array(
  jsonb_build_object('account_id', :host_payable, 'amount', 1000000),
  jsonb_build_object('account_id', :stripe, 'amount', -1000000))) as overdraw \gset
select results_eq(
  format($$select invariant from treasury.check_invariants() where reference = '%s EUR'$$, :'host'),
  $$values ('negative_payable')$$,
  'a payee whose payable and held fall below zero is reported'
);

-- Held funds no open dispute explains.
select treasury_private.post('test_hold', 'pgtap-inv', jsonb_build_array(
  jsonb_build_object('account_id', :stripe, 'amount', 50),
  jsonb_build_object('account_id', :artist_held, 'amount', -50))) as stray_hold \gset
select results_eq(
  format($$select invariant, detail from treasury.check_invariants() where reference = '%s EUR' and invariant = 'held_mismatch'$$, :'artist'),
  $$values ('held_mismatch', 'open disputes hold 699, the held accounts say 749')$$,
  'held money that open disputes do not account for is reported'
);

-- A split line that does not belong.
insert into public.treasury_splits (payment_id, reason, reference, party_index, party_id, role, amount_minor, currency)
values ('pi_pgtap_inv_c', 'refund', 'stray', 1, :'artist', 'artist', -5, 'EUR');
select results_eq(
  $$select invariant, detail from treasury.check_invariants() where reference = 'pi_pgtap_inv_c'$$,
  $$values ('split_mismatch', 'refund lines sum to -5, expected 0')$$,
  'split lines that do not sum to what the payment says are reported'
);

-- A payment with no split and no ledger transaction.
insert into treasury.payments (id, product_id, product_type, buyer_id, quantity, amount_minor, currency, split_rule_id,
                               party_ids, party_roles, shares_bp, livemode, paid_at, stripe_event_id)
values ('pi_pgtap_inv_ghost', :'product', 'ticket', :'buyer', 1, 500, 'EUR', :'rule',
        array[:'artist', :'host', null]::uuid[], '{artist,host,platform}', '{7000,2000,1000}', false, now(), 'evt_none');
select results_eq(
  $$select invariant, detail from treasury.check_invariants() where reference = 'pi_pgtap_inv_ghost'$$,
  $$values ('payment_not_posted', 'no payment ledger transaction'), ('split_mismatch', 'payment lines sum to 0, expected 500')$$,
  'a payment that was never split nor posted is reported'
);

-- A transaction header without postings.
insert into treasury.ledger_transactions (kind, reference) values ('test_empty', 'pgtap-inv') returning id as empty_txn \gset
select results_eq(
  format($$select invariant, detail from treasury.check_invariants() where reference = '%s'$$, :empty_txn),
  $$values ('empty_transaction', 'test_empty pgtap-inv has no postings')$$,
  'an empty transaction is reported'
);

-- An unbalanced transaction, seen before the commit that would refuse it.
insert into treasury.ledger_transactions (kind, reference) values ('test_unbalanced', 'pgtap-inv') returning id as unbalanced_txn \gset
insert into public.treasury_ledger (txn_id, kind, reference, account_id, currency, amount)
values (:unbalanced_txn, 'test_unbalanced', 'pgtap-inv', :stripe, 'EUR', 42);
select results_eq(
  format($$select invariant, detail from treasury.check_invariants() where reference = '%s'$$, :unbalanced_txn),
  $$values ('unbalanced_transaction', 'EUR: debits exceed credits by 42')$$,
  'an unbalanced transaction is reported'
);

-- A posting in another currency than its account's cannot even be written.
select throws_ok(
  format($$insert into public.treasury_ledger (txn_id, kind, reference, account_id, currency, amount)
           values (%s, 'test_unbalanced', 'pgtap-inv', %s, 'USD', -42)$$, :unbalanced_txn, :stripe),
  '23503', null, 'a posting''s currency is its account''s (foreign key)'
);

select is(
  (select array_agg(distinct invariant order by invariant) from treasury.check_invariants()),
  '{balance_mismatch,empty_transaction,held_mismatch,negative_payable,payment_not_posted,split_mismatch,unbalanced_transaction}'::text[],
  'each kind of violation is there'
);

select * from finish();
rollback;
