-- Treasury payouts: the fraud checks. A payout is held when the payee's wallet is unverified or
-- when their payable balance holds more than their recorded payments explain (split lines, less
-- what disputes hold, less their payouts); the reason is visible to the payee and to admins;
-- verifying the wallet releases wallet-only holds; an admin releases the rest after review.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(34);
\ir treasury_payouts_helpers.psql

select pg_temp.pay('pi_pgtap_hold_1', 20000, :'meta') as paid \gset
select gen_random_uuid() as admin, gen_random_uuid() as stranger \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');

-- The trace check on honest money ---------------------------------------------------------------------------

select results_eq(format($$select payable, split_lines, held, outstanding, untraced from treasury_private.payee_trace(%L, 'EUR')$$, :'artist'),
                  $$values (14000::bigint, 14000::bigint, 0::bigint, 0::bigint, 0::bigint)$$,
                  'a payee''s payable is exactly their split lines');
select pg_temp.receive('evt_pgtap_hold_rf', 'charge.refunded', pg_temp.ts(-50), pg_temp.charge('pi_pgtap_hold_1', 20000, 5000)) ->> 'status' as refunded \gset
select pg_temp.receive('evt_pgtap_hold_dp', 'charge.dispute.created', pg_temp.ts(-40),
                       pg_temp.dispute('dp_pgtap_hold', 'pi_pgtap_hold_1', 2000, 'needs_response')) ->> 'status' as disputed \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapHold') as wallet \gset
select pg_temp.request(:'artist', 3000) as traced \gset
select results_eq(format($$select payable, split_lines, held, outstanding, untraced from treasury_private.payee_trace(%L, 'EUR')$$, :'artist'),
                  $$values (6100::bigint, 10500::bigint, 1400::bigint, 3000::bigint, 0::bigint)$$,
                  'after a refund, a dispute and a payout: payable = split lines - held - payouts, nothing untraced');
select is((select state from treasury.payouts where id = :'traced'), 'pending', 'so a verified payee''s payout is not held');

-- Money no payment explains ------------------------------------------------------------------------------------

-- 5000 appear in the artist's payable from nowhere (a posting no payment made).
select treasury_private.post('manual_credit', 'pgtap-untraced', jsonb_build_array(
  jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', 'EUR'), 'amount', 5000),
  jsonb_build_object('account_id', treasury_private.account(:'artist', 'payable', 'EUR'), 'amount', -5000))) as forged \gset
select is((select untraced from treasury_private.payee_trace(:'artist', 'EUR')), 5000::bigint, 'the trace check finds the 5000');
select results_eq($$select invariant from treasury.check_payout_invariants()$$, $$values ('untraced_payable')$$,
                  'check_payout_invariants reports it');
select pg_temp.request(:'artist', 2000) as suspect \gset
select results_eq(
  format($$select state, hold_reasons, hold_detail, due_at from treasury.payouts where id = %L$$, :'suspect'),
  $$values ('held', '{untraced_earnings}'::text[],
            'Held: 5000 EUR of the payable balance of 11100 cannot be traced to recorded payments (split lines 10500, held by disputes 1400, payouts 3000).',
            null::timestamptz)$$,
  'a payout of a payee with untraced money is held, with the figures'
);
select is(split_part(pg_temp.moves(:'suspect'), ', ', 1), 'payout_request payable>payouts_held', 'its money waits in payouts_held');
select pg_temp.request(:'host', 1000) as host_payout \gset
select results_eq(format($$select state, hold_reasons from treasury.payouts where payee_id = %L$$, :'host'),
                  $$values ('held', '{wallet_unverified}'::text[])$$, 'the host is held only because their wallet is unverified');

-- Who sees why ---------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'artist');
select results_eq(format($$select hold_reasons, hold_detail is not null from treasury.payout_history() where payout_id = %L$$, :'suspect'),
                  $$values ('{untraced_earnings}'::text[], true)$$, 'the payee reads why in their payout history');
select results_eq(format($$select state, hold_reasons from treasury.payouts where id = %L$$, :'suspect'),
                  $$values ('held', '{untraced_earnings}'::text[])$$, 'and in the payouts table');
select throws_ok('select * from treasury.held_payouts()', '42501', 'held payouts is for Treasury admins', 'but not the admins'' list');
select throws_ok(format('select treasury.release_payout(%L)', :'suspect'), '42501', 'releasing a held payout is for Treasury admins',
                 'and cannot release it');
reset role;
select pg_temp.act_as(:'stranger');
select is((select count(*) from treasury.payouts where id = :'suspect'), 0::bigint, 'another user sees nothing of it');
select throws_ok(format('select * from treasury.payout_history(%L)', :'artist'), '42501', 'you can only read your own money',
                 'nor reads the payee''s history');
reset role;
select pg_temp.act_as(:'admin');
select results_eq(
  $$select payee_id, wallet_id, wallet_verification, amount_minor, currency, hold_reasons, untraced_minor
    from treasury.held_payouts() order by amount_minor desc$$,
  format($$values (%L::uuid, %L, 'verified', 2000::bigint, 'EUR', '{untraced_earnings}'::text[], 5000::bigint),
                  (%L::uuid, (select wallet_id from treasury.wallets where user_id = %L), 'unverified', 1000::bigint, 'EUR',
                   '{wallet_unverified}'::text[], 0::bigint)$$, :'artist', :'wallet', :'host', :'host'),
  'an admin lists the held payouts, why, and how much is untraced now'
);
select is((select count(*) from treasury.payouts where state = 'held' and payee_id in (:'artist', :'host')), 2::bigint,
          'and reads them in the table');

-- Release -------------------------------------------------------------------------------------------------------

select throws_ok(format('select treasury.release_payout(%L)', (select id from treasury.payouts where payee_id = :'host')), '55000',
                 format('the wallet %s of payout %s is not verified', (select wallet_id from treasury.wallets where user_id = :'host'),
                        (select id from treasury.payouts where payee_id = :'host')),
                 'an admin cannot release a payout to an unverified wallet');
select throws_ok(format('select treasury.release_payout(%L)', :'traced'), '55000',
                 format('payout %s is pending: only held payouts are released', :'traced'), 'only held payouts are released');
select throws_ok(format('select treasury.release_payout(%L)', gen_random_uuid()), 'P0002', null, 'an unknown payout is not found');
select throws_ok('select treasury.release_payout(null)', '22023', 'payout_id is required', 'payout_id is required');
select results_eq(format($$select state, released_by, release_note, due_at = now() from treasury.release_payout(%L, 'checked: a support credit')$$, :'suspect'),
                  format($$values ('pending', %L::uuid, 'checked: a support credit', true)$$, :'admin'),
                  'an admin releases the untraced hold after review: queued at once');
reset role;
select results_eq(format($$select from_state, to_state, actor, actor_id, reason from treasury.payout_transitions where payout_id = %L and seq = 2$$, :'suspect'),
                  format($$values ('held', 'pending', 'admin', %L::uuid, 'checked: a support credit')$$, :'admin'),
                  'the release is a transition by the admin, with their note');
select is(pg_temp.moves(:'suspect'), 'payout_request payable>payouts_held, payout_pending payouts_held>payouts_queued',
          'its money moves from payouts_held to the queue');
select is((select hold_reasons from treasury.payouts where id = :'suspect'), '{untraced_earnings}'::text[],
          'why it was held is kept');

-- Verifying the wallet releases wallet-only holds ------------------------------------------------------------------

select pg_temp.verified_wallet(:'host', 'acct_pgtapHoldHost') as host_wallet \gset
select results_eq(format($$select state, due_at = now() from treasury.payouts where payee_id = %L$$, :'host'),
                  $$values ('pending', true)$$, 'verifying the host''s wallet released their payout');
select results_eq(format($$select actor, reason from treasury.payout_transitions as t join treasury.payouts as p on p.id = t.payout_id
                           where p.payee_id = %L and t.seq = 2$$, :'host'),
                  $$values ('service', 'wallet verified')$$, 'as a transition of its own');

-- Both reasons: the wallet alone does not release it ---------------------------------------------------------------

select treasury.set_wallet_verification(:'artist', false) is not null as unverified \gset
select pg_temp.request(:'artist', 1000) as both \gset
select is((select hold_reasons from treasury.payouts where id = :'both'), '{wallet_unverified,untraced_earnings}'::text[],
          'unverified and untraced: both reasons');
select is((select hold_detail from treasury.payouts where id = :'both'),
          'Held: the wallet''s Stripe account acct_pgtapHold is not verified yet; 5000 EUR of the payable balance of 9100 '
          || 'cannot be traced to recorded payments (split lines 10500, held by disputes 1400, payouts 5000).',
          'both in one sentence');
select treasury.set_wallet_verification(:'artist', true) is not null as verified \gset
select is((select state from treasury.payouts where id = :'both'), 'held', 'verifying the wallet does not release an untraced hold');
select pg_temp.act_as(:'artist');
select is((select state from treasury.cancel_payout(:'both')), 'cancelled', 'the payee may cancel a held payout');
reset role;
select is(split_part(pg_temp.moves(:'both'), ', ', 2), 'payout_cancelled payouts_held>payable', 'its money returns to payable');

select is_empty($$select * from treasury.check_invariants()$$, 'the ledger''s invariants hold');
select results_eq($$select invariant from treasury.check_payout_invariants()$$, $$values ('untraced_payable')$$,
                  'and of the payout invariants only the forged credit shows');

-- check_payout_invariants() traces every payee: the trace is inlined into its statement and planned with
-- it, never called (and planned) once per payee. Counting calls needs track_functions, which only a
-- superuser (or a role granted it) may set.
select rolsuper or has_parameter_privilege('track_functions', 'SET') as may_track
from pg_roles where rolname = current_user \gset
\if :may_track
set local track_functions = 'all';
select coalesce((select calls from pg_stat_xact_user_functions where funcname = 'payee_trace'), 0) as traced_before \gset
select count(*) as payout_checks from treasury.check_payout_invariants() \gset
select is(coalesce((select calls from pg_stat_xact_user_functions where funcname = 'payee_trace'), 0), :traced_before::bigint,
          'check_payout_invariants() does not call payee_trace once per payee: the trace is inlined');
reset track_functions;
\else
select skip('this role may not set track_functions', 1);
\endif

select * from finish();
rollback;
