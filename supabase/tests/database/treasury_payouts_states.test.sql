-- Treasury payouts: the state machine, driven by the queue (treasury.process_payouts at explicit
-- moments, never by sleeping), Stripe's events and the worker's reports. pending -> processing ->
-- paid; failed attempts retried after an exponential backoff (capped) up to the limit, then failed
-- for good with the money back in payable; a failure code no retry fixes; a bank payout returned
-- after it was paid; a retry that pays out the transfer that still stands instead of transferring
-- twice; a payout held when its wallet is no longer verified; cancelling. Each transition is one
-- balanced ledger transaction, and the invariants hold after each scenario.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(60);
\ir treasury_payouts_helpers.psql

-- Five attempts; backoff 5 minutes doubling, capped at 15.
insert into treasury.payout_settings (currency, minimum_minor, max_attempts, retry_base, retry_max)
values ('EUR', 1000, 5, interval '5 minutes', interval '15 minutes');

select pg_temp.pay('pi_pgtap_sm_1', 100000, :'meta') as paid \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapSm') as wallet \gset
select gen_random_uuid() as admin, gen_random_uuid() as stranger \gset
-- Moments the API roles pass in (they cannot call pg_temp functions).
select pg_temp.at(1200) as t1200, pg_temp.at(1300) as t1300, pg_temp.at(2100) as t2100, pg_temp.at(6200) as t6200 \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');

select pg_temp.request(:'artist', 10000) as p1, pg_temp.request(:'artist', 5000) as p2,
       pg_temp.request(:'artist', 2000) as p3, pg_temp.request(:'artist', 3000) as p4 \gset

-- pending -> processing ------------------------------------------------------------------------------

select is((select count(*) from treasury.payouts where payee_id = :'artist' and state = 'pending'), 4::bigint, 'four payouts pending');
select throws_ok($$select treasury.process_payouts(null)$$, '22023', 'at is required: the moment the queue runs at', 'at is required');
select throws_ok($$select treasury.process_payouts(now(), 0)$$, '22023', 'batch_size must be between 1 and 10000, got 0',
                 'batch_size is bounded');
select ok((treasury.process_payouts(pg_temp.at(60)) ->> 'sent')::int >= 4, 'the queue sends the due payouts');
select results_eq(
  format($$select p.state, p.attempts, p.due_at, a.operation, a.status, a.idempotency_key, a.stripe_account_id, a.started_at
           from treasury.payouts as p join treasury.payout_attempts as a on a.payout_id = p.id where p.id = %L$$, :'p1'),
  format($$values ('processing', 1, null::timestamptz, 'transfer', 'open', %L, 'acct_pgtapSm', %L::timestamptz)$$,
         'buckets_payout_' || :'p1' || '_1', pg_temp.at(60)),
  'a sent payout is processing, attempt 1 recorded with its idempotency key, destination and time'
);
select is(
  (select request from treasury.payout_attempts where payout_id = :'p1'),
  jsonb_build_object(
    'idempotency_key', 'buckets_payout_' || :'p1' || '_1',
    'transfer', jsonb_build_object('idempotency_key', 'buckets_payout_' || :'p1' || '_1_transfer', 'amount', 10000, 'currency', 'eur',
                                   'destination', 'acct_pgtapSm', 'transfer_group', 'payout_' || :'p1',
                                   'metadata', jsonb_build_object('payout_id', :'p1', 'payout_attempt', '1', 'wallet_id', :'wallet')),
    'standing_transfer', null,
    'payout', jsonb_build_object('idempotency_key', 'buckets_payout_' || :'p1' || '_1_payout', 'stripe_account', 'acct_pgtapSm',
                                 'amount', 10000, 'currency', 'eur',
                                 'metadata', jsonb_build_object('payout_id', :'p1', 'payout_attempt', '1', 'wallet_id', :'wallet'))),
  'it says what to ask Stripe: a transfer to the connected account, then a payout there, each with its idempotency key'
);
select treasury.process_payouts(pg_temp.at(60)) as again \gset
select is((select attempts from treasury.payouts where id = :'p1'), 1, 'a second run at the same moment sends nothing again');

-- processing -> paid ------------------------------------------------------------------------------------

select pg_temp.receive_connect('evt_pgtap_sm_p1_tr', 'transfer.created', pg_temp.ts(70),
                               pg_temp.transfer('tr_pgtap_sm_p1', :'p1', 1, 10000, 'acct_pgtapSm')) ->> 'status' as s \gset
select results_eq(format($$select status, transfer_id from treasury.payout_attempts where payout_id = %L$$, :'p1'),
                  $$values ('transferred', 'tr_pgtap_sm_p1')$$, 'transfer.created confirms the attempt');
select is((select state from treasury.payouts where id = :'p1'), 'processing', 'the payout stays processing');
select is(pg_temp.receive_connect('evt_pgtap_sm_p1_paid', 'payout.paid', pg_temp.ts(80),
                                  pg_temp.bank_payout('po_pgtap_sm_p1', :'p1', 1, 10000, 'paid'), 'acct_pgtapSm') ->> 'state',
          'paid', 'payout.paid pays it');
select results_eq(format($$select state, paid_at, due_at from treasury.payouts where id = %L$$, :'p1'),
                  format($$values ('paid', %L::timestamptz, null::timestamptz)$$, pg_temp.at(80)), 'paid at Stripe''s time');
select is(pg_temp.moves(:'p1'),
          'payout_request payable>payouts_queued, payout_processing payouts_queued>payouts_in_transit, payout_paid payouts_in_transit>stripe_balance',
          'its ledger: payable -> queued -> in transit -> out of the Stripe balance');
select is(pg_temp.states(:'p1'), 'pending processing paid', 'its transitions');
select results_eq(
  format($$select client_event_id, payload from public.passport_entries where user_id = %L and kind = 'treasury.payout_completed'$$, :'artist'),
  format($$values (%L, jsonb_build_object('payout_id', %L, 'amount_minor', 10000, 'currency', 'EUR'))$$,
         'payout:' || :'p1' || ':completed:1', :'p1'),
  'treasury.payout_completed is logged with it'
);
select is_empty($$select * from pg_temp.violations()$$, 'invariants hold after a payout is paid');

-- A failure no retry fixes -------------------------------------------------------------------------------

select pg_temp.receive_connect('evt_pgtap_sm_p3_fail', 'payout.failed', pg_temp.ts(90),
                               pg_temp.bank_payout('po_pgtap_sm_p3', :'p3', 1, 2000, 'failed', 'account_closed'), 'acct_pgtapSm')
  ->> 'status' as s \gset
select results_eq(format($$select state, due_at, attempts, failure_code, failure_message from treasury.payouts where id = %L$$, :'p3'),
                  $$values ('failed', null::timestamptz, 1, 'account_closed', 'the bank said account_closed')$$,
                  'account_closed fails the payout for good at the first attempt');
select is(pg_temp.moves(:'p3'),
          'payout_request payable>payouts_queued, payout_processing payouts_queued>payouts_in_transit, payout_failed payouts_in_transit>payable',
          'and its money goes back to payable');
select is((select payload ->> 'reason' from public.passport_entries where user_id = :'artist' and kind = 'treasury.payout_failed'
             and client_event_id = 'payout:' || :'p3' || ':failed'),
          'the bank said account_closed', 'treasury.payout_failed tells the payee why');

-- Retries with backoff, up to the limit ---------------------------------------------------------------------

select pg_temp.receive_connect('evt_pgtap_sm_p2_rev1', 'transfer.reversed', pg_temp.ts(100),
                               pg_temp.transfer('tr_pgtap_sm_p2_1', :'p2', 1, 5000, 'acct_pgtapSm', 5000)) ->> 'status' as s \gset
select results_eq(format($$select state, due_at, failure_code from treasury.payouts where id = %L$$, :'p2'),
                  format($$values ('failed', %L::timestamptz, 'transfer_reversed')$$, pg_temp.at(400)),
                  'attempt 1 reversed: failed, retried 5 minutes later');
select treasury.process_payouts(pg_temp.at(399)) as early \gset
select is((select state from treasury.payouts where id = :'p2'), 'failed', 'not a second before');
select treasury.process_payouts(pg_temp.at(400)) as due \gset
select results_eq(format($$select p.state, p.attempts, a.operation, a.request -> 'transfer' is not null
                           from treasury.payouts as p join treasury.payout_attempts as a on a.payout_id = p.id and a.attempt = p.attempts
                           where p.id = %L$$, :'p2'),
                  $$values ('processing', 2, 'transfer', true)$$,
                  'at the moment: attempt 2, a new transfer since the first was reversed');

select pg_temp.receive_connect('evt_pgtap_sm_p2_tr2', 'transfer.created', pg_temp.ts(410),
                               pg_temp.transfer('tr_pgtap_sm_p2_2', :'p2', 2, 5000, 'acct_pgtapSm')) ->> 'status' as s \gset
select pg_temp.receive_connect('evt_pgtap_sm_p2_fail2', 'payout.failed', pg_temp.ts(500),
                               pg_temp.bank_payout('po_pgtap_sm_p2_2', :'p2', 2, 5000, 'failed', 'could_not_process'), 'acct_pgtapSm')
  ->> 'status' as s \gset
select is((select due_at from treasury.payouts where id = :'p2'), pg_temp.at(1100), 'attempt 2 failed: retried 10 minutes later');
select treasury.process_payouts(pg_temp.at(1099)) as early \gset
select is((select attempts from treasury.payouts where id = :'p2'), 2, 'not before');
select treasury.process_payouts(pg_temp.at(1100)) as due \gset
select results_eq(format($$select a.operation, a.transfer_id, a.request -> 'transfer', a.request ->> 'standing_transfer'
                           from treasury.payout_attempts as a where a.payout_id = %L and a.attempt = 3$$, :'p2'),
                  $$values ('payout', 'tr_pgtap_sm_p2_2', 'null'::jsonb, 'tr_pgtap_sm_p2_2')$$,
                  'attempt 3 pays out the transfer that still stands, and transfers nothing again');

select pg_temp.act_as_service();
select is((select state from treasury.fail_payout_attempt(:'p2', 3, 'rate_limit', 'Stripe said slow down', null, :'t1200')),
          'failed', 'the worker reports attempt 3 failed');
select is((select due_at from treasury.fail_payout_attempt(:'p2', 3, 'rate_limit', 'again', null, :'t1300')),
          :'t2100'::timestamptz, 'reporting it twice changes nothing; retried 15 minutes later (20, capped)');
reset role;
select treasury.process_payouts(pg_temp.at(2100)) as due \gset
select is((select operation from treasury.payout_attempts where payout_id = :'p2' and attempt = 4), 'payout',
          'attempt 4 still pays out the standing transfer');
select pg_temp.receive_connect('evt_pgtap_sm_p2_fail4', 'payout.failed', pg_temp.ts(2200),
                               pg_temp.bank_payout('po_pgtap_sm_p2_4', :'p2', 4, 5000, 'failed', 'could_not_process'), 'acct_pgtapSm')
  ->> 'status' as s \gset
select is((select due_at from treasury.payouts where id = :'p2'), pg_temp.at(3100), 'attempt 4 failed: retried 15 minutes later (capped)');
select is_empty($$select * from pg_temp.violations()$$, 'invariants hold while a payout waits for its retry');
select treasury.process_payouts(pg_temp.at(3100)) as due \gset
select is(pg_temp.receive_connect('evt_pgtap_sm_p2_fail5', 'payout.failed', pg_temp.ts(3200),
                                  pg_temp.bank_payout('po_pgtap_sm_p2_5', :'p2', 5, 5000, 'failed', 'could_not_process'), 'acct_pgtapSm')
            ->> 'retry_at', null, 'attempt 5 failed: no retry left');
select results_eq(format($$select state, due_at, attempts from treasury.payouts where id = %L$$, :'p2'),
                  $$values ('failed', null::timestamptz, 5)$$, 'the payout failed for good');
select results_eq(format($$select attempt, operation, status, failed_by from treasury.payout_attempts where payout_id = %L order by attempt$$, :'p2'),
                  $$values (1, 'transfer', 'failed', 'transfer'), (2, 'transfer', 'failed', 'payout'), (3, 'payout', 'failed', 'worker'),
                           (4, 'payout', 'failed', 'payout'), (5, 'payout', 'failed', 'payout')$$,
                  'five attempts, each failed by what Stripe or the worker said');
select is(pg_temp.states(:'p2'),
          'pending processing failed(retry) processing failed(retry) processing failed(retry) processing failed(retry) processing failed',
          'its transitions');
select is(pg_temp.moves(:'p2'),
          'payout_request payable>payouts_queued, payout_processing payouts_queued>payouts_in_transit, '
          || 'payout_failed payouts_in_transit>payouts_queued, payout_processing payouts_queued>payouts_in_transit, '
          || 'payout_failed payouts_in_transit>payouts_queued, payout_processing payouts_queued>payouts_in_transit, '
          || 'payout_failed payouts_in_transit>payouts_queued, payout_processing payouts_queued>payouts_in_transit, '
          || 'payout_failed payouts_in_transit>payouts_queued, payout_processing payouts_queued>payouts_in_transit, '
          || 'payout_failed payouts_in_transit>payable',
          'each one a balanced transaction; the last returns the money to payable');
select is((select count(*) from public.passport_entries where kind = 'treasury.payout_failed' and payload ->> 'payout_id' = :'p2'),
          1::bigint, 'one treasury.payout_failed, for the final failure');
select treasury.process_payouts(pg_temp.at(100000)) as later \gset
select is((select attempts from treasury.payouts where id = :'p2'), 5, 'a payout failed for good is never sent again');

-- A bank payout returned after it was paid ---------------------------------------------------------------------

select pg_temp.receive_connect('evt_pgtap_sm_p4_tr', 'transfer.created', pg_temp.ts(70),
                               pg_temp.transfer('tr_pgtap_sm_p4', :'p4', 1, 3000, 'acct_pgtapSm')) ->> 'status' as s \gset
select pg_temp.receive_connect('evt_pgtap_sm_p4_paid', 'payout.paid', pg_temp.ts(80),
                               pg_temp.bank_payout('po_pgtap_sm_p4', :'p4', 1, 3000, 'paid'), 'acct_pgtapSm') ->> 'status' as s \gset
select is(pg_temp.receive_connect('evt_pgtap_sm_p4_back', 'payout.failed', pg_temp.ts(5000),
                                  pg_temp.bank_payout('po_pgtap_sm_p4', :'p4', 1, 3000, 'failed', 'could_not_process'), 'acct_pgtapSm')
            ->> 'state', 'failed', 'payout.failed after payout.paid: the bank returned it');
select results_eq(format($$select state, due_at, paid_at from treasury.payouts where id = %L$$, :'p4'),
                  format($$values ('failed', %L::timestamptz, null::timestamptz)$$, pg_temp.at(5300)), 'it is retried like any failure');
select is(pg_temp.moves(:'p4'),
          'payout_request payable>payouts_queued, payout_processing payouts_queued>payouts_in_transit, '
          || 'payout_paid payouts_in_transit>stripe_balance, payout_failed stripe_balance>payouts_queued',
          'the return puts the money back into the Stripe balance and the queue');
select treasury.process_payouts(pg_temp.at(5300)) as due \gset
select is((select operation from treasury.payout_attempts where payout_id = :'p4' and attempt = 2), 'payout',
          'the retry pays out the transfer again, it still stands');
select is(pg_temp.receive_connect('evt_pgtap_sm_p4_paid2', 'payout.paid', pg_temp.ts(5400),
                                  pg_temp.bank_payout('po_pgtap_sm_p4_2', :'p4', 2, 3000, 'paid'), 'acct_pgtapSm') ->> 'state',
          'paid', 'and is paid');
select is((select array_agg(client_event_id order by client_event_id) from public.passport_entries
           where kind = 'treasury.payout_completed' and payload ->> 'payout_id' = :'p4'),
          array['payout:' || :'p4' || ':completed:1', 'payout:' || :'p4' || ':completed:2'],
          'each payment to the bank is one payout_completed');
select is_empty($$select * from pg_temp.violations()$$, 'invariants hold after retries, a final failure and a return');

-- Held when the wallet is no longer verified; cancelling ---------------------------------------------------------

select pg_temp.request(:'artist', 1500) as p5 \gset
select treasury.set_wallet_verification(:'artist', false, 'Stripe disabled payouts') is not null as unverified \gset
select treasury.process_payouts(pg_temp.at(6000)) as run \gset
select results_eq(format($$select state, hold_reasons from treasury.payouts where id = %L$$, :'p5'),
                  $$values ('held', '{wallet_unverified}'::text[])$$,
                  'the queue holds a payout whose wallet is no longer verified, instead of sending it');
select is(split_part(pg_temp.moves(:'p5'), ', ', 2), 'payout_held payouts_queued>payouts_held', 'its money moves to payouts_held');
select treasury.set_wallet_verification(:'artist', true, 'Stripe enabled payouts again') is not null as verified \gset
select results_eq(format($$select state, due_at = now() from treasury.payouts where id = %L$$, :'p5'),
                  $$values ('pending', true)$$, 'verifying the wallet releases it to the queue');

select pg_temp.act_as(:'stranger');
select throws_ok(format('select treasury.cancel_payout(%L)', :'p5'), '42501', format('payout %s is not yours', :'p5'),
                 'nobody cancels another user''s payout');
reset role;
select pg_temp.act_as(:'artist');
select throws_ok(format('select treasury.cancel_payout(%L)', :'p1'), '55000',
                 format('payout %s is paid: only held, pending or retrying payouts are cancelled', :'p1'), 'a paid payout stays paid');
select is((select state from treasury.cancel_payout(:'p5', 'changed my mind')), 'cancelled', 'the payee cancels their pending payout');
reset role;
select is(pg_temp.moves(:'p5'),
          'payout_request payable>payouts_queued, payout_held payouts_queued>payouts_held, '
          || 'payout_pending payouts_held>payouts_queued, payout_cancelled payouts_queued>payable',
          'and its money is back in payable');

select pg_temp.request(:'artist', 1000) as p6 \gset
select treasury.process_payouts(pg_temp.at(6100)) as run \gset
select pg_temp.act_as(:'artist');
select throws_ok(format('select treasury.cancel_payout(%L)', :'p6'), '55000',
                 format('payout %s is processing: only held, pending or retrying payouts are cancelled', :'p6'),
                 'a payout being sent cannot be cancelled');
reset role;
select pg_temp.act_as_service();
select throws_ok(format($$select treasury.fail_payout_attempt(%L, 1, 'x')$$, gen_random_uuid()), 'P0002', null, 'unknown payout');
select throws_ok(format($$select treasury.fail_payout_attempt(%L, 9, 'x')$$, :'p6'), 'P0002',
                 format('payout %s has no attempt 9', :'p6'), 'unknown attempt');
select throws_ok(format($$select treasury.fail_payout_attempt(%L, 1, 'x')$$, :'p1'), '55000', null, 'a paid attempt cannot fail this way');
select throws_ok(format($$select treasury.fail_payout_attempt(%L, 1, 'x', null, 'po_x')$$, :'p6'), '22023',
                 'transfer_id must be a Stripe transfer id (tr_...), got po_x', 'transfer_id is a transfer id');
select is((select state from treasury.fail_payout_attempt(:'p6', 1, 'api_error', null, 'tr_pgtap_sm_p6', :'t6200')), 'failed',
          'the worker reports attempt 1 failed after its transfer');
reset role;
select pg_temp.act_as(:'admin');
select is((select state from treasury.cancel_payout(:'p6', 'support: payee asked')), 'cancelled', 'an admin cancels a payout waiting for its retry');
reset role;
select is((select cancelled_by from treasury.payouts where id = :'p6'), :'admin'::uuid, 'and is recorded as who cancelled');

select is(pg_temp.balance(:'artist', 'payable'), 70000 - 10000 - 3000::bigint,
          'the artist''s payable: 70000 less the two payouts paid; every failed or cancelled one came back');
select is_empty($$select * from pg_temp.violations()$$, 'invariants hold after every scenario');

select * from finish();
rollback;
