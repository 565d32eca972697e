-- Treasury payout worker, the database's side: the batch a worker run claims (unfinished attempts
-- whose payout is not created yet, oldest first, leased so that no other run works on them), what
-- Stripe answered each step (converging with the events that record the same ids), refusals
-- (fail_payout_attempt) and the retry that pays out a standing transfer, and the reversal of a
-- transfer left standing by a payout that failed for good or was cancelled. Concurrent runs on
-- two connections: tests/tests/payout_worker_race.rs.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(39);
\ir treasury_payouts_helpers.psql

-- Work other tests left in this database (the end-to-end tests pay out through the real worker) is
-- leased away for this transaction, so the batches below are this test's alone.
update treasury.payout_attempts set leased_until = 'infinity', reversal_leased_until = 'infinity';
update treasury.payouts set due_at = 'infinity' where due_at is not null;

select pg_temp.pay('pi_pgtap_worker_1', 50000, :'meta') as paid \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapWorker') as wallet \gset
select pg_temp.request(:'artist', 5000) as p1 \gset
select pg_temp.request(:'artist', 4000) as p2 \gset
select pg_temp.request(:'artist', 3000) as p3 \gset
select treasury.process_payouts(pg_temp.at(60)) as sent \gset

-- Claiming ---------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'artist');
select throws_ok($$select treasury.claim_payout_work()$$, '42501', null, 'a user cannot claim payout work');
reset role;
select pg_temp.at(70) as at70 \gset
select pg_temp.act_as_service();
select treasury.claim_payout_work(10, 300, :'at70') as batch \gset
reset role;
select is(jsonb_array_length(:'batch'::jsonb -> 'attempts'), 3, 'the run claims the three open attempts');
select is((select jsonb_agg(a ->> 'payout_id' order by ord) from jsonb_array_elements(:'batch'::jsonb -> 'attempts') with ordinality as t(a, ord)),
          (select jsonb_agg(id order by requested_at, id) from treasury.payouts where id in (:'p1', :'p2', :'p3')),
          'oldest first');
select is(:'batch'::jsonb -> 'attempts' -> 0 -> 'request',
          (select request from treasury.payout_attempts where payout_id = (:'batch'::jsonb -> 'attempts' -> 0 ->> 'payout_id')::uuid),
          'each with the request the queue wrote (idempotency keys, transfer, payout, metadata)');
select results_eq(format($$select leased_until, worker_runs from treasury.payout_attempts where payout_id = %L$$, :'p1'),
                  $$values (pg_temp.at(370), 1)$$, 'leased for lease_seconds, one run so far');
select is(treasury.claim_payout_work(10, 300, pg_temp.at(80)), '{"attempts": [], "reversals": []}'::jsonb,
          'another run meanwhile gets nothing: the attempts are leased');
select throws_ok($$select treasury.claim_payout_work(0)$$, '22023', null, 'batch_size must be at least 1');
select throws_ok($$select treasury.claim_payout_work(10, 5)$$, '22023', null, 'a lease shorter than 10 seconds is refused');

-- Recording Stripe's answers -----------------------------------------------------------------------------------

select results_eq(format($$select r ->> 'status', r ->> 'transfer_id', (r ->> 'recorded')::boolean
                           from treasury.record_payout_step(%L, 1, 'transfer', 'tr_pgtap_w1') as r$$, :'p1'),
                  $$values ('transferred', 'tr_pgtap_w1', true)$$, 'the transfer Stripe created is recorded');
select is((treasury.record_payout_step(:'p1', 1, 'transfer', 'tr_pgtap_w1') ->> 'recorded')::boolean, false,
          'recording it again changes nothing');
select throws_ok(format($$select treasury.record_payout_step(%L, 1, 'transfer', 'tr_pgtap_other')$$, :'p1'), '55000', null,
                 'another transfer for the same attempt is refused');
select is(pg_temp.receive_connect('evt_pgtap_w1_tr', 'transfer.created', pg_temp.ts(75),
                                  pg_temp.transfer('tr_pgtap_w1', :'p1', 1, 5000, 'acct_pgtapWorker')) ->> 'note',
          'already_recorded', 'transfer.created after the worker recorded it is already known');
select is((treasury.record_payout_step(:'p1', 1, 'payout', 'po_pgtap_w1') ->> 'stripe_payout_id'), 'po_pgtap_w1',
          'the payout on the connected account is recorded');
select is(pg_temp.receive_connect('evt_pgtap_w1_po', 'payout.created', pg_temp.ts(76),
                                  pg_temp.bank_payout('po_pgtap_w1', :'p1', 1, 5000, 'pending'), 'acct_pgtapWorker') ->> 'note',
          'already_recorded', 'and payout.created agrees');

select is(pg_temp.receive_connect('evt_pgtap_w2_tr', 'transfer.created', pg_temp.ts(75),
                                  pg_temp.transfer('tr_pgtap_w2', :'p2', 1, 4000, 'acct_pgtapWorker')) ->> 'status',
          'applied', 'p2''s transfer.created arrives before the worker recorded its answer');
select is((treasury.record_payout_step(:'p2', 1, 'transfer', 'tr_pgtap_w2') ->> 'recorded')::boolean, false,
          'the worker''s record of the same transfer converges on it');
select throws_ok(format($$select treasury.record_payout_step(%L, 1, 'payout', 'tr_pgtap_w2')$$, :'p2'), '22023', null,
                 'a payout step needs a payout id');
select throws_ok(format($$select treasury.record_payout_step(%L, 9, 'payout', 'po_x')$$, :'p2'), 'P0002', null,
                 'an unknown attempt is P0002');

select is(jsonb_array_length(treasury.claim_payout_work(10, 300, pg_temp.at(400)) -> 'attempts'), 2,
          'after the lease, a run claims again what has no payout yet (p2, p3), not p1');
select is((select worker_runs from treasury.payout_attempts where payout_id = :'p2'), 2, 'p2 was claimed by two runs');

-- A refusal, and the retry by payout alone ----------------------------------------------------------------------

select is((treasury.fail_payout_attempt(:'p2', 1, 'balance_insufficient', 'Insufficient funds', 'tr_pgtap_w2', pg_temp.at(410))).state,
          'failed', 'Stripe refused p2''s payout: the attempt fails, to be retried');
select is(treasury.process_payouts(pg_temp.at(410 + 300)) ->> 'retried', '1', 'the queue retries it after the backoff');
select results_eq(format($$select a ->> 'operation', a ->> 'transfer_id', a -> 'request' -> 'transfer', a -> 'request' ->> 'standing_transfer'
                           from jsonb_array_elements(treasury.claim_payout_work(10, 300, pg_temp.at(720)) -> 'attempts') as a
                           where a ->> 'payout_id' = %L$$, :'p2'),
                  $$values ('payout', 'tr_pgtap_w2', 'null'::jsonb, 'tr_pgtap_w2')$$,
                  'attempt 2 pays out the standing transfer, no second transfer');

-- Failed for good: the standing transfer is reversed -------------------------------------------------------------

select is(treasury.record_payout_step(:'p3', 1, 'transfer', 'tr_pgtap_w3') ->> 'status', 'transferred', 'p3 is transferred');
select is((treasury.fail_payout_attempt(:'p3', 1, 'account_closed', 'The bank account is closed', null, pg_temp.at(730))).due_at, null,
          'then its payout is refused for good (account_closed)');
select treasury.claim_payout_work(10, 300, pg_temp.at(740)) -> 'reversals' as reversals \gset
select is(:'reversals'::jsonb, jsonb_build_array(jsonb_build_object(
            'payout_id', :'p3', 'attempt', 1, 'transfer_id', 'tr_pgtap_w3', 'amount', 3000, 'currency', 'eur',
            'idempotency_key', 'buckets_payout_' || :'p3' || '_reversal',
            'metadata', jsonb_build_object('payout_id', :'p3', 'payout_attempt', '1'))),
          'its standing transfer is to be reversed, with an idempotency key from the payout');
select is(treasury.claim_payout_work(10, 300, pg_temp.at(750)) -> 'reversals', '[]'::jsonb, 'leased: no other run takes it');
select is(treasury.record_transfer_reversal(:'p3', 1, 'trr_pgtap_w3', null, pg_temp.at(760)) ->> 'reversal_id', 'trr_pgtap_w3',
          'the reversal Stripe made is recorded');
select isnt((select transfer_reversed_at from treasury.payout_attempts where payout_id = :'p3'), null, 'the transfer no longer stands');
select is(treasury.claim_payout_work(10, 300, pg_temp.at(2000)) -> 'reversals', '[]'::jsonb, 'nothing is reversed twice');
select is(pg_temp.receive_connect('evt_pgtap_w3_rev', 'transfer.reversed', pg_temp.ts(770),
                                  pg_temp.transfer('tr_pgtap_w3', :'p3', 1, 3000, 'acct_pgtapWorker', 3000)) ->> 'note',
          'already_recorded', 'transfer.reversed that follows is already known');
select throws_ok(format($$select treasury.record_transfer_reversal(%L, 1)$$, :'p1'), '22023', null,
                 'a reversal record names the reversal or the error');
select throws_ok(format($$select treasury.record_transfer_reversal(%L, 1, 'trr_x')$$, :'p1'), '55000', null,
                 'an attempt with no reversal claimed has none to record');

-- A cancelled payout whose transfer stands, and a refused reversal
select results_eq(format($$select (treasury.fail_payout_attempt(%L, 2, 'balance_insufficient', null, null, pg_temp.at(800))).state$$, :'p2'),
                  $$values ('failed')$$, 'p2''s second attempt fails too, to be retried');
select pg_temp.act_as(:'artist');
select is((treasury.cancel_payout(:'p2')).state, 'cancelled', 'the payee cancels it while it waits');
reset role;
select is(treasury.claim_payout_work(10, 300, pg_temp.at(2000)) -> 'reversals' -> 0 ->> 'transfer_id', 'tr_pgtap_w2',
          'the transfer a cancelled payout left standing is reversed');
select is(treasury.record_transfer_reversal(:'p2', 2, null, 'insufficient_funds: the account balance is too low', pg_temp.at(2010)) ->> 'reversal_error',
          'insufficient_funds: the account balance is too low', 'Stripe refuses: the error is kept for an operator');
select is(treasury.claim_payout_work(10, 300, pg_temp.at(9000)) -> 'reversals', '[]'::jsonb, 'and it is not claimed again');

select is_empty($$select * from pg_temp.violations()$$, 'the ledger and payout invariants hold');

select * from finish();
rollback;
