-- Treasury payouts and Coliseum's artist holds: while an artist is held, the part of their payouts
-- that their earnings of the held activity would fund is held (reason artist_held): new requests at
-- once, queued ones when the queue comes to send them, and attempts not yet transferred are left
-- unclaimed by the worker. The hold is traced to Passport entries (the hold's, and those of the
-- payments that fund the held amount); the money waits in payouts_held and every ledger invariant
-- holds; releasing the artist queues the payouts again and the next runs send them.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(32);
\ir treasury_payouts_helpers.psql

-- Work other tests left in this database is leased away for this transaction, so the batches below
-- are this test's alone.
update treasury.payout_attempts set leased_until = 'infinity', reversal_leased_until = 'infinity';
update treasury.payouts set due_at = 'infinity' where due_at is not null;

-- Asks for a payout as who, dated minutes ago (requests are served in request order, and a
-- transaction's now() does not move).
create function pg_temp.request_at(who uuid, amount bigint, minutes_ago int)
returns uuid
language plpgsql
as $$
declare
  made uuid := pg_temp.request(who, amount);
begin
  update treasury.payouts set requested_at = now() - make_interval(mins => minutes_ago) where id = made;
  return made;
end
$$;

select gen_random_uuid() as admin \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');

-- The artist earns 7000 of a 10000 payment an hour ago; the host 2000.
select pg_temp.pay('pi_pgtap_artist_hold_1', 10000, :'meta') as paid \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapArtistHold') as wallet \gset
select pg_temp.verified_wallet(:'host', 'acct_pgtapArtistHoldHost') as host_wallet \gset
select pg_temp.request_at(:'artist', 2000, 50) as sent_before \gset
select treasury.process_payouts(pg_temp.at(60)) ->> 'sent' as queued \gset
select pg_temp.request_at(:'artist', 1500, 40) as queued_before \gset

-- An admin holds the artist: all their activity --------------------------------------------------------------

select pg_temp.act_as(:'admin');
select (coliseum.hold_artist(:'artist', 'one fan made 97% of the plays', '{"top_fan_share": 0.97}')).id as hold \gset
reset role;
select held_entry_id as hold_entry from coliseum.artist_holds where id = :'hold' \gset
select e.id as spent_entry from public.passport_entries as e where e.client_event_id = 'stripe:pi_pgtap_artist_hold_1:spent' \gset
select e.id as earned_entry from public.passport_entries as e
where e.user_id = :'artist' and e.client_event_id = 'stripe:pi_pgtap_artist_hold_1:earned:artist' \gset

-- The queue and the worker's claim run as the functions' owner here (pg_temp helpers are not the
-- service role's to call); treasury_payouts_rls.test.sql checks who may call them.
select is(treasury.process_payouts(pg_temp.at(120)), '{"sent": 0, "held": 1, "retried": 0}'::jsonb,
          'the queue holds the payout it was about to send');
select is(jsonb_array_length(treasury.claim_payout_work(10, 300, pg_temp.at(130)) -> 'attempts'), 0,
          'and the worker does not claim the attempt that was queued before the hold (no transfer made yet)');
select results_eq(format($$select state, hold_reasons from treasury.payouts where id in (%L, %L) order by requested_at$$,
                         :'sent_before', :'queued_before'),
                  $$values ('processing', '{}'::text[]), ('held', '{artist_held}'::text[])$$,
                  'the payout handed to the worker waits in processing; the queued one is held');
select is(pg_temp.states(:'queued_before'), 'pending held', 'by the queue');

select pg_temp.request_at(:'artist', 1000, 30) as asked \gset
select results_eq(format($$select state, hold_reasons, hold_detail from treasury.payouts where id = %L$$, :'asked'),
  format($$values ('held', '{artist_held}'::text[], %L)$$,
         format('Held: the artist is held off the boards (hold %s, Passport entry %s: one fan made 97%% of the plays); '
                '1000 EUR of this payout would come from the 7000 EUR they earned from the held activity '
                '(Passport entries of the payments: %s/%s).', :'hold', :'hold_entry', :'spent_entry', :'earned_entry')),
  'a new request is held at once, the reason naming the hold''s Passport entry and the payment''s'
);
select is((select hold_trace from treasury.payouts where id = :'asked'),
          jsonb_build_object('hold_id', :'hold'::uuid, 'hold_entry_id', :'hold_entry'::bigint, 'activity_since', null,
                             'held_earnings_minor', 7000, 'held_minor', 1000, 'payments_total', 1,
                             'payments', jsonb_build_array(jsonb_build_object(
                               'payment_id', 'pi_pgtap_artist_hold_1',
                               'paid_at', (select paid_at from treasury.payments where id = 'pi_pgtap_artist_hold_1'),
                               'share_minor', 7000, 'spent_entry_id', :'spent_entry'::bigint,
                               'earned_entry_id', :'earned_entry'::bigint))),
          'its trace: the hold, its Passport entry, and the payment that funds it with the buyer''s and the artist''s entries');
select results_eq(format($$select kind from public.passport_entries where id in (%s, %s, %s) order by id$$,
                         :'spent_entry', :'earned_entry', :'hold_entry'),
                  $$values ('treasury.money_spent'), ('treasury.money_earned'), ('coliseum.artist_held')$$,
                  'the entries are the payment and the hold');
select is(pg_temp.moves(:'asked'), 'payout_request payable>payouts_held', 'its money waits in payouts_held');
select is(pg_temp.moves(:'queued_before'), 'payout_request payable>payouts_queued, payout_held payouts_queued>payouts_held',
          'and the queued one''s went back there');
select is((select count(*) from pg_temp.violations()), 0::bigint, 'every ledger and payout invariant holds');
select is(pg_temp.balance(:'artist', 'payable'), 2500::bigint, 'the payable balance is what was not asked for');

-- Who reads why ---------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'artist');
select results_eq(format($$select hold_reasons, position(%L in hold_detail) > 0 from treasury.payout_history() where payout_id = %L$$,
                         :'hold', :'asked'),
                  $$values ('{artist_held}'::text[], true)$$,
                  'the artist reads the reason in their payout history');
select is((select hold_trace -> 'held_minor' from treasury.payouts where id = :'asked'), '1000'::jsonb,
          'and the trace in the payouts table');
reset role;
select pg_temp.act_as(:'admin');
select results_eq($$select amount_minor, hold_reasons from treasury.held_payouts() where payee_id = (select payee_id from treasury.payouts where hold_reasons = '{artist_held}' limit 1) order by amount_minor$$,
                  $$values (1000::bigint, '{artist_held}'::text[]), (1500::bigint, '{artist_held}'::text[])$$,
                  'an admin lists both held payouts');
select throws_ok(format($$select treasury.release_payout(%L, 'looks fine')$$, :'asked'), '55000', null,
                 'but cannot release one while the artist is held');
reset role;

-- Others are not held ---------------------------------------------------------------------------------------------

select pg_temp.request_at(:'host', 1000, 20) as host_payout \gset
select is((select state from treasury.payouts where id = :'host_payout'), 'pending',
          'the host''s share of the same payment is not the held artist''s: it goes out');

-- Release: the payouts go out ----------------------------------------------------------------------------------

select pg_temp.act_as(:'admin');
select (coliseum.release_artist(:'artist', 'reviewed: the fans are real')).released_entry_id as release_entry \gset
reset role;
select results_eq(format($$select state, due_at is not null from treasury.payouts where id in (%L, %L) order by requested_at$$,
                         :'queued_before', :'asked'),
                  $$values ('pending', true), ('pending', true)$$, 'releasing the artist queues their held payouts');
select is((select reason from treasury.payout_transitions where payout_id = :'asked' order by seq desc limit 1),
          format('artist hold %s released: reviewed: the fans are real', :'hold'), 'saying why');
select is((select jsonb_agg(a ->> 'payout_id') from jsonb_array_elements(treasury.claim_payout_work(10, 300, pg_temp.at(200)) -> 'attempts') as a),
          jsonb_build_array(:'sent_before'::text), 'the worker''s next run claims the attempt that waited');
select is((treasury.process_payouts(pg_temp.at(210)) ->> 'sent')::int, 3, 'the queue''s next run sends the released payouts (and the host''s)');
select results_eq(format($$select state from treasury.payouts where id in (%L, %L) order by requested_at$$, :'queued_before', :'asked'),
                  $$values ('processing'), ('processing')$$, 'both are on their way');
select is((select count(*) from pg_temp.violations()), 0::bigint, 'every invariant still holds');

-- A hold of recent activity only: earlier earnings still go out ----------------------------------------------------

select pg_temp.act_as_service();
select (coliseum.hold_artist(:'artist', 'plays spiked since this morning', '{}', now() - interval '30 minutes')).id as window_hold \gset
reset role;
-- 7000 more, from a payment a minute ago (inside the held activity).
select pg_temp.receive('evt_pi_pgtap_artist_hold_2', 'checkout.session.completed', pg_temp.ts(-60),
                       pg_temp.session('pi_pgtap_artist_hold_2', 10000, :'meta')) ->> 'status' as paid_2 \gset
-- Unsent now: 2000 + 1500 + 1000 (attempts with no transfer yet) and 2500 payable of before the
-- window: 7000 clean. The next 2500 fits; 1000 more would be the held activity's.
select pg_temp.request_at(:'artist', 2500, 10) as clean_payout \gset
select pg_temp.request_at(:'artist', 1000, 5) as window_payout \gset
select results_eq(format($$select state, hold_reasons from treasury.payouts where id in (%L, %L) order by requested_at$$,
                         :'clean_payout', :'window_payout'),
                  $$values ('pending', '{}'::text[]), ('held', '{artist_held}'::text[])$$,
                  'what was earned before the held activity goes out; what it earned is held');
select results_eq(format($$select (hold_trace ->> 'held_earnings_minor')::bigint, (hold_trace ->> 'held_minor')::bigint,
                                  hold_trace #>> '{payments,0,payment_id}', (hold_trace ->> 'payments_total')::int,
                                  (hold_trace ->> 'activity_since')::timestamptz
                           from treasury.payouts where id = %L$$, :'window_payout'),
                  $$values (7000::bigint, 1000::bigint, 'pi_pgtap_artist_hold_2', 1, now() - interval '30 minutes')$$,
                  'traced to the payment inside the window only');
select is((treasury.process_payouts(pg_temp.at(300)) ->> 'sent')::int, 1, 'the queue sends the clean payout');
select is((select state from treasury.payouts where id = :'window_payout'), 'held', 'and the held one stays held');
select is((select count(*) from pg_temp.violations()), 0::bigint, 'every invariant holds');
select pg_temp.act_as_service();
select coliseum.release_artist(:'artist', 'reviewed again') is not null as released \gset
reset role;
select is((select state from treasury.payouts where id = :'window_payout'), 'pending', 'the release queues it too');

-- Two reasons: each must be gone before the payout goes -------------------------------------------------------

select treasury.set_wallet_verification(:'artist', false, 'pgtap: Stripe disabled payouts') is not null as unverified \gset
select coliseum.hold_artist(:'artist', 'plays spiked again') is not null as held_again \gset
select pg_temp.request_at(:'artist', 1000, 1) as both_reasons \gset
select results_eq(format($$select state, hold_reasons from treasury.payouts where id = %L$$, :'both_reasons'),
                  $$values ('held', '{wallet_unverified,artist_held}'::text[])$$, 'an unverified wallet and a held artist');
select coliseum.release_artist(:'artist', 'reviewed') is not null as released_again \gset
select is((select state from treasury.payouts where id = :'both_reasons'), 'held', 'releasing the artist leaves it held for the wallet');
select treasury.set_wallet_verification(:'artist', true, 'pgtap: payouts enabled') is not null as verified \gset
select is((select state from treasury.payouts where id = :'both_reasons'), 'pending', 'verifying the wallet then queues it');
select is((select count(*) from pg_temp.violations()), 0::bigint, 'and every invariant holds at the end');

select * from finish();
rollback;
