-- Treasury Connect onboarding: the payee's payout account (treasury.payout_account), recording
-- the Express account the payout-account function created (treasury.record_payout_account: the
-- caller's own wallet only, never replacing a destination; any as service_role), and
-- account.updated setting the wallet's verification from payouts_enabled and requirements, in
-- any order (Stripe's created decides), which releases or holds payouts.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(35);
\ir treasury_payouts_helpers.psql

-- An account.updated event of a connected account.
create function pg_temp.account_updated(id text, created bigint, account text, payouts_enabled boolean,
                                        currently_due text[] default '{}', past_due text[] default '{}',
                                        disabled_reason text default null, payout_interval text default 'manual')
returns jsonb
language sql
as $$
  select treasury.receive_stripe_event(pg_temp.event(id, 'account.updated', created, jsonb_build_object(
    'id', account, 'object', 'account', 'type', 'express', 'charges_enabled', payouts_enabled,
    'payouts_enabled', payouts_enabled, 'details_submitted', true,
    'settings', jsonb_build_object('payouts', jsonb_build_object('schedule', jsonb_build_object('interval', payout_interval))),
    'requirements', jsonb_build_object('currently_due', to_jsonb(currently_due), 'past_due', to_jsonb(past_due),
                                       'eventually_due', '[]'::jsonb, 'disabled_reason', disabled_reason)))
    || jsonb_build_object('account', account))
$$;

insert into auth.users (id, email) values (:'artist', 'artist@example.test');
select gen_random_uuid() as stranger \gset

-- The payee's payout account ------------------------------------------------------------------------------

select pg_temp.act_as(null);
select throws_ok($$select treasury.payout_account()$$, '42501', null, 'anon has no payout account');
reset role;
select pg_temp.act_as(:'artist');
select results_eq($$select a ->> 'user_id', a ->> 'stripe_account_id', a ->> 'verification', a ->> 'email',
                          treasury.wallet_id_valid(a ->> 'wallet_id') from treasury.payout_account() as a$$,
                  format($$values (%L, null::text, 'unverified', 'artist@example.test', true)$$, :'artist'),
                  'a payee without a Stripe account gets their wallet, no account yet, and their email');

-- Recording the account the function created --------------------------------------------------------------

select throws_ok($$select treasury.record_payout_account('acct_pgtapConnect', auth.uid())$$, '42501', null,
                 'a payee cannot record an account, even for their own wallet (it could be anyone''s)');
reset role;
select pg_temp.act_as(null);
select throws_ok($$select treasury.record_payout_account('acct_pgtapAnon')$$, '42501', null, 'anon records nothing');
reset role;
select pg_temp.act_as_service();
select is(treasury.record_payout_account('acct_pgtapConnect', :'artist') ->> 'stripe_account_id', 'acct_pgtapConnect',
          'the function records the account it created for the payee''s wallet');
select is(treasury.record_payout_account('acct_pgtapConnect', :'artist') ->> 'verification', 'unverified',
          'recording the same account again changes nothing');
select throws_ok(format($$select treasury.record_payout_account('acct_pgtapOther', %L)$$, :'artist'), '55000', null,
                 'an account is not replaced this way (support links another with link_stripe_account)');
select throws_ok($$select treasury.record_payout_account('acct_pgtapSvc')$$, '22023', null, 'the payee must be named');
select throws_ok(format($$select treasury.record_payout_account('bogus', %L)$$, :'stranger'), '22023', null,
                 'an id that is no account id is refused');
select throws_ok(format($$select treasury.record_payout_account('acct_pgtapConnect', %L)$$, :'stranger'), '23505', null,
                 'an account linked to another wallet cannot be recorded');
select is(treasury.record_payout_account('acct_pgtapSvc', :'stranger') ->> 'stripe_account_id', 'acct_pgtapSvc',
          'each payee''s own account');
reset role;
select pg_temp.act_as(:'artist');
select is(treasury.payout_account() ->> 'stripe_account_id', 'acct_pgtapConnect', 'the payee reads it back: the next call reuses it');
reset role;

-- account.updated ----------------------------------------------------------------------------------------------

select pg_temp.pay('pi_pgtap_connect_1', 50000, :'meta') as paid \gset
select pg_temp.request(:'artist', 5000) as held_payout \gset
select is((select state from treasury.payouts where id = :'held_payout'), 'held', 'a payout of an unverified wallet is held');

select results_eq($$select r ->> 'status', r ->> 'verification' from pg_temp.account_updated('evt_pgtap_acct_1', pg_temp.ts(10),
                           'acct_pgtapConnect', false, array['external_account', 'individual.dob.day']) as r$$,
                  $$values ('applied', 'unverified')$$, 'onboarding not finished: the wallet stays unverified');
select is((select verification_note from treasury.wallets where user_id = :'artist'),
          'Stripe account acct_pgtapConnect: payouts disabled; currently due: external_account, individual.dob.day',
          'with a note naming what Stripe still needs');
select results_eq($$select r ->> 'status', r ->> 'verification' from pg_temp.account_updated('evt_pgtap_acct_2', pg_temp.ts(20),
                           'acct_pgtapConnect', true) as r$$,
                  $$values ('applied', 'verified')$$, 'payouts_enabled with nothing due verifies the wallet');
select is((select state from treasury.payouts where id = :'held_payout'), 'pending', 'which releases the payout held for it');
select is(pg_temp.account_updated('evt_pgtap_acct_2', pg_temp.ts(20), 'acct_pgtapConnect', true) ->> 'status', 'duplicate',
          'a redelivery is a duplicate');

select results_eq($$select r ->> 'status', r ->> 'note', r ->> 'verification' from pg_temp.account_updated('evt_pgtap_acct_0',
                           pg_temp.ts(5), 'acct_pgtapConnect', false, array['external_account']) as r$$,
                  $$values ('applied', 'superseded: account.updated of ' || to_timestamp(pg_temp.ts(20)) || ' is newer', 'verified')$$,
                  'an older account.updated arriving late changes nothing');
select is((select verification from treasury.wallets where user_id = :'artist'), 'verified', 'the wallet stays verified');

select results_eq($$select r ->> 'verification' from pg_temp.account_updated('evt_pgtap_acct_3', pg_temp.ts(30),
                           'acct_pgtapConnect', true, array['individual.id_number'], array['individual.id_number']) as r$$,
                  $$values ('unverified')$$, 'something past due unverifies it, payouts_enabled or not');
select is((select verification_note from treasury.wallets where user_id = :'artist'),
          'Stripe account acct_pgtapConnect: payouts enabled; past due: individual.id_number; currently due: individual.id_number',
          'the note says what is past due');
select is((treasury.process_payouts(pg_temp.at(60)) ->> 'held')::int, 1, 'the queue holds the pending payout of an unverified wallet');
select is((select state from treasury.payouts where id = :'held_payout'), 'held', 'so nothing goes to an account Stripe restricted');

select results_eq($$select r ->> 'verification' from pg_temp.account_updated('evt_pgtap_acct_4', pg_temp.ts(40),
                           'acct_pgtapConnect', true, '{}', '{}', 'rejected.fraud') as r$$,
                  $$values ('unverified')$$, 'a disabled account is unverified');
select results_eq($$select r ->> 'verification' from pg_temp.account_updated('evt_pgtap_acct_5', pg_temp.ts(50),
                           'acct_pgtapConnect', true, array['company.tax_id']) as r$$,
                  $$values ('verified')$$, 'payouts_enabled with requirements currently due (not past due) is verified');
select is((select state from treasury.payouts where id = :'held_payout'), 'pending', 'and releases the held payout again');

-- On an automatic payout schedule Stripe would pay the worker's transfer out by itself, and the
-- worker's own payout of it would fail and give the money back to the payee a second time.
select results_eq($$select r ->> 'verification' from pg_temp.account_updated('evt_pgtap_acct_6', pg_temp.ts(55),
                           'acct_pgtapConnect', true, payout_interval => 'daily') as r$$,
                  $$values ('unverified')$$, 'an account whose payouts are automatic is not verified');
select matches((select verification_note from treasury.wallets where user_id = :'artist'),
               'automatic schedule \(daily\): set settings.payouts.schedule.interval to manual',
               'and the note says what to change');
select pg_temp.account_updated('evt_pgtap_acct_7', pg_temp.ts(56), 'acct_pgtapConnect', true) ->> 'verification' as again \gset

select results_eq($$select r ->> 'status', r ->> 'note' from pg_temp.account_updated('evt_pgtap_acct_other', pg_temp.ts(50),
                           'acct_pgtapNobody', true) as r$$,
                  $$values ('ignored', 'account acct_pgtapNobody is linked to no wallet')$$,
                  'an account of no wallet is ignored');
select is(treasury.receive_stripe_event(pg_temp.event('evt_pgtap_acct_bad', 'account.updated', pg_temp.ts(50), '{"id": 42}'))
            ->> 'status', 'failed', 'an account.updated without an account id is recorded failed');

-- A new account is checked afresh: its events are not compared with the old one's.
select pg_temp.act_as_service();
select is((treasury.link_stripe_account(:'artist', 'acct_pgtapConnect2')).verification, 'unverified',
          'support links another account: unverified until Stripe says otherwise');
reset role;
select is((select stripe_account_synced_at from treasury.wallets where user_id = :'artist'), null,
          'linking another account forgets the old account''s last event');
select is(pg_temp.account_updated('evt_pgtap_acct2_1', pg_temp.ts(1), 'acct_pgtapConnect2', true) ->> 'verification', 'verified',
          'so the new account''s first event applies, however old');
select is_empty($$select * from pg_temp.violations()$$, 'the ledger and payout invariants hold');

select * from finish();
rollback;
