-- Treasury payouts: Stripe's transfer.* and payout.* events through treasury.receive_stripe_event.
-- Redeliveries and second events about the same fact change nothing; events arrive in any order;
-- the attempt is found by metadata, by the transfer or payout id recorded before, or by the
-- connected account and amount; events of no Buckets payout are ignored; inconsistent ones are
-- recorded failed with a note and change nothing.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(35);
\ir treasury_payouts_helpers.psql

select pg_temp.pay('pi_pgtap_ev_1', 50000, :'meta') as paid \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapEv') as wallet \gset
select pg_temp.request(:'artist', 5000) as p1, pg_temp.request(:'artist', 4000) as p2, pg_temp.request(:'artist', 3000) as p3,
       pg_temp.request(:'artist', 2000) as p4, pg_temp.request(:'artist', 1500) as p5 \gset
select treasury.process_payouts(pg_temp.at(60)) as sent \gset

-- The same fact twice ----------------------------------------------------------------------------------------

select pg_temp.event('evt_pgtap_ev_p1_tr', 'transfer.created', pg_temp.ts(70),
                     pg_temp.transfer('tr_pgtap_ev_p1', :'p1', 1, 5000, 'acct_pgtapEv')) as p1_transfer \gset
select results_eq(format($$select r ->> 'status', r ->> 'payout_id', (r ->> 'attempt')::int from treasury.receive_stripe_event(%L) as r$$, :'p1_transfer'),
                  format($$values ('applied', %L, 1)$$, :'p1'), 'transfer.created is applied to the payout and attempt it names');
select is(treasury.receive_stripe_event(:'p1_transfer') ->> 'status', 'duplicate', 'its redelivery is a duplicate');
select is(pg_temp.receive_connect('evt_pgtap_ev_p1_tr_again', 'transfer.created', pg_temp.ts(71),
                                  pg_temp.transfer('tr_pgtap_ev_p1', :'p1', 1, 5000, 'acct_pgtapEv')) ->> 'note',
          'already_recorded', 'another event about the same transfer changes nothing');
select pg_temp.event('evt_pgtap_ev_p1_paid', 'payout.paid', pg_temp.ts(80),
                     pg_temp.bank_payout('po_pgtap_ev_p1', :'p1', 1, 5000, 'paid')) || '{"account": "acct_pgtapEv"}' as p1_paid \gset
select is(treasury.receive_stripe_event(:'p1_paid') ->> 'state', 'paid', 'payout.paid pays the payout');
select is(treasury.receive_stripe_event(:'p1_paid') ->> 'status', 'duplicate', 'its redelivery is a duplicate');
select is(pg_temp.receive_connect('evt_pgtap_ev_p1_paid_again', 'payout.paid', pg_temp.ts(81),
                                  pg_temp.bank_payout('po_pgtap_ev_p1', :'p1', 1, 5000, 'paid'), 'acct_pgtapEv') ->> 'note',
          'already_recorded', 'a second payout.paid for the same payout changes nothing');
select is((select count(*) from treasury.ledger_transactions where kind = 'payout_paid' and reference like :'p1' || ':%'), 1::bigint,
          'one payout_paid transaction');
select is((select count(*) from public.passport_entries where kind = 'treasury.payout_completed' and payload ->> 'payout_id' = :'p1'),
          1::bigint, 'one treasury.payout_completed');
select is(pg_temp.states(:'p1'), 'pending processing paid', 'three transitions, no more');

-- Out of order ---------------------------------------------------------------------------------------------------

select is(pg_temp.receive_connect('evt_pgtap_ev_p2_paid', 'payout.paid', pg_temp.ts(90),
                                  pg_temp.bank_payout('po_pgtap_ev_p2', :'p2', 1, 4000, 'paid'), 'acct_pgtapEv') ->> 'state',
          'paid', 'payout.paid before transfer.created pays the payout');
select is(pg_temp.receive_connect('evt_pgtap_ev_p2_tr', 'transfer.created', pg_temp.ts(85),
                                  pg_temp.transfer('tr_pgtap_ev_p2', :'p2', 1, 4000, 'acct_pgtapEv')) ->> 'status',
          'applied', 'the late transfer.created is applied');
select results_eq(format($$select a.status, a.transfer_id, a.stripe_payout_id, p.state from treasury.payout_attempts as a
                           join treasury.payouts as p on p.id = a.payout_id where a.payout_id = %L$$, :'p2'),
                  $$values ('paid', 'tr_pgtap_ev_p2', 'po_pgtap_ev_p2', 'paid')$$, 'and only records its transfer id');

select is(pg_temp.receive_connect('evt_pgtap_ev_p3_rev', 'transfer.reversed', pg_temp.ts(100),
                                  pg_temp.transfer('tr_pgtap_ev_p3', :'p3', 1, 3000, 'acct_pgtapEv', 3000)) ->> 'state',
          'failed', 'transfer.reversed before transfer.created fails the attempt');
select is(pg_temp.receive_connect('evt_pgtap_ev_p3_tr', 'transfer.created', pg_temp.ts(95),
                                  pg_temp.transfer('tr_pgtap_ev_p3', :'p3', 1, 3000, 'acct_pgtapEv')) ->> 'note',
          'already_recorded', 'the late transfer.created changes nothing');
select results_eq(format($$select p.state, p.due_at is not null, a.status from treasury.payouts as p
                           join treasury.payout_attempts as a on a.payout_id = p.id where p.id = %L$$, :'p3'),
                  $$values ('failed', true, 'failed')$$, 'the payout waits for its retry');

-- Found without metadata --------------------------------------------------------------------------------------------

select pg_temp.receive_connect('evt_pgtap_ev_p4_tr', 'transfer.created', pg_temp.ts(70),
                               pg_temp.transfer('tr_pgtap_ev_p4', :'p4', 1, 2000, 'acct_pgtapEv')) ->> 'status' as s \gset
select results_eq($$select r ->> 'status', r ->> 'payout_id' from pg_temp.receive_connect('evt_pgtap_ev_p4_po', 'payout.created', pg_temp.ts(75),
                                  pg_temp.bank_payout('po_pgtap_ev_p4', null, null, 2000, 'pending'), 'acct_pgtapEv') as r$$,
                  format($$values ('applied', %L)$$, :'p4'),
                  'a connected account''s payout without metadata is matched by account, amount and currency');
select is(pg_temp.receive_connect('evt_pgtap_ev_p4_paid', 'payout.paid', pg_temp.ts(76),
                                  pg_temp.bank_payout('po_pgtap_ev_p4', null, null, 2000, 'paid')) ->> 'state',
          'paid', 'then by its payout id');
select is(pg_temp.receive_connect('evt_pgtap_ev_p5_tr', 'transfer.created', pg_temp.ts(70),
                                  pg_temp.transfer('tr_pgtap_ev_p5', :'p5', 1, 1500, 'acct_pgtapEv')) ->> 'status',
          'applied', 'p5''s transfer is created');
select pg_temp.receive_connect('evt_pgtap_ev_p5_fail', 'payout.failed', pg_temp.ts(110),
                               pg_temp.bank_payout('po_pgtap_ev_p5', :'p5', 1, 1500, 'failed', 'could_not_process'), 'acct_pgtapEv')
  ->> 'status' as s \gset
select is(pg_temp.receive_connect('evt_pgtap_ev_p5_rev', 'transfer.reversed', pg_temp.ts(120),
                                  pg_temp.transfer('tr_pgtap_ev_p5', null, null, 1500, 'acct_pgtapEv', 1500)) ->> 'note',
          'already_recorded', 'a transfer.reversed without metadata is matched by its transfer id; the attempt had failed already');
select isnt((select transfer_reversed_at from treasury.payout_attempts where payout_id = :'p5' and attempt = 1), null,
            'but the transfer is marked reversed');
select treasury.process_payouts(pg_temp.at(100000)) as retried \gset
select is((select operation from treasury.payout_attempts where payout_id = :'p5' and attempt = 2), 'transfer',
          'so the retry transfers anew instead of paying out a reversed transfer');

-- Ignored ------------------------------------------------------------------------------------------------------------

select results_eq($$select r ->> 'status', r ->> 'note' from pg_temp.receive('evt_pgtap_ev_upd', 'transfer.updated', pg_temp.ts(),
                      pg_temp.transfer('tr_pgtap_ev_p1', null, null, 5000, 'acct_pgtapEv')) as r$$,
                  $$values ('ignored', 'transfer.updated changes no payout')$$, 'transfer.updated is recorded as ignored');
select results_eq($$select r ->> 'status', r ->> 'note' from pg_temp.receive('evt_pgtap_ev_platform', 'payout.paid', pg_temp.ts(),
                      pg_temp.bank_payout('po_pgtap_platform', null, null, 123456, 'paid')) as r$$,
                  $$values ('ignored', 'payout po_pgtap_platform is not a Buckets payout (no metadata.payout_id, nothing recorded matches)')$$,
                  'the platform''s own payout to its bank is ignored');
select is(pg_temp.receive_connect('evt_pgtap_ev_other_acct', 'payout.paid', pg_temp.ts(),
                                  pg_temp.bank_payout('po_pgtap_other', null, null, 777, 'paid'), 'acct_pgtapSomeoneElse') ->> 'status',
          'ignored', 'a connected account''s payout that matches no attempt is ignored');

-- Inconsistent: failed with a note, nothing changed -----------------------------------------------------------------

select gen_random_uuid() as ghost \gset
select results_eq(format($$select r ->> 'status', r ->> 'note' from pg_temp.receive('evt_pgtap_ev_ghost', 'payout.paid', pg_temp.ts(),
                      pg_temp.bank_payout('po_pgtap_ghost', %L, 1, 1000, 'paid')) as r$$, :'ghost'),
                  format($$values ('failed', 'metadata.payout_id %s: no such payout or attempt 1')$$, :'ghost'),
                  'metadata naming no payout fails');
select pg_temp.request(:'artist', 1200) as p6 \gset
select treasury.process_payouts(pg_temp.at(100000)) as sent \gset
select results_eq(format($$select r ->> 'status', r ->> 'note' from pg_temp.receive_connect('evt_pgtap_ev_p6_amount', 'payout.paid', pg_temp.ts(),
                      pg_temp.bank_payout('po_pgtap_ev_p6', %L, 1, 1199, 'paid'), 'acct_pgtapEv') as r$$, :'p6'),
                  format($$values ('failed', 'payout.paid po_pgtap_ev_p6 is 1199 EUR, attempt 1 of payout %s is 1200 EUR')$$, :'p6'),
                  'an amount that is not the attempt''s fails');
select alike(pg_temp.receive_connect('evt_pgtap_ev_p6_dest', 'transfer.created', pg_temp.ts(),
                                    pg_temp.transfer('tr_pgtap_ev_p6', :'p6', 1, 1200, 'acct_pgtapWrong')) ->> 'note',
            'transfer tr_pgtap_ev_p6 goes to acct_pgtapWrong, attempt 1 of payout % to acct_pgtapEv', 'so does another destination');
select is(pg_temp.receive_connect('evt_pgtap_ev_p6_partial', 'transfer.reversed', pg_temp.ts(),
                                  pg_temp.transfer('tr_pgtap_ev_p6', :'p6', 1, 1200, 'acct_pgtapEv', 200)) ->> 'note',
          'transfer tr_pgtap_ev_p6 reversed 200 of 1200: a partial reversal needs an admin', 'and a partial reversal');
select results_eq(format($$select state, attempts from treasury.payouts where id = %L$$, :'p6'),
                  $$values ('processing', 1)$$, 'none of them changed the payout');
select alike(pg_temp.receive_connect('evt_pgtap_ev_p3_stale', 'payout.paid', pg_temp.ts(),
                                    pg_temp.bank_payout('po_pgtap_ev_p3_1', :'p3', 1, 3000, 'paid'), 'acct_pgtapEv') ->> 'note',
            'payout.paid for attempt 1 (failed) of payout % which is processing at attempt 2',
            'payout.paid for an attempt whose transfer was reversed, while attempt 2 runs, fails for an admin to look at');
select is((select count(*) from treasury.stripe_event_problems where event_id like 'evt_pgtap_ev_%'), 5::bigint,
          'the failed events wait in stripe_event_problems');
select is(pg_temp.receive_connect('evt_pgtap_ev_p6_cancel', 'payout.canceled', pg_temp.ts(200),
                                  pg_temp.bank_payout('po_pgtap_ev_p6', :'p6', 1, 1200, 'canceled'), 'acct_pgtapEv') ->> 'state',
          'failed', 'payout.canceled fails the attempt');
select is((select failure_code from treasury.payouts where id = :'p6'), 'payout_canceled', 'with code payout_canceled');

select results_eq($$select status, count(*) from treasury.stripe_events where event_id like 'evt_pgtap_ev_%' group by status order by status$$,
                  $$values ('applied', 15::bigint), ('failed', 5::bigint), ('ignored', 3::bigint)$$,
                  'every event recorded once, with what became of it');
select is_empty($$select * from pg_temp.violations()$$, 'no invariant is violated');

select * from finish();
rollback;
