-- Treasury payouts: who reads and calls what, for every table and function of the payouts
-- migration, as anon, another user, the payee, an admin and service_role. Users read their own
-- wallet, payouts and transitions; admins read everything; only service_role links accounts,
-- verifies wallets, runs the queue and reports attempts; nobody writes the tables directly; the
-- log and the payouts are kept even from the owner.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(64);
\ir treasury_payouts_helpers.psql

select pg_temp.pay('pi_pgtap_prls', 10000, :'meta') as paid \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapRls') as wallet \gset
select pg_temp.request(:'artist', 2000) as sent, pg_temp.request(:'artist', 1000) as queued, pg_temp.request(:'host', 1000) as held \gset
update treasury.payouts set due_at = now() + interval '1 day' where id = :'queued';
select treasury.process_payouts(pg_temp.at(60)) as run \gset
select gen_random_uuid() as admin, gen_random_uuid() as stranger \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');
select wallet_id as host_wallet from treasury.wallets where user_id = :'host' \gset

-- anon -------------------------------------------------------------------------------------------------------
select pg_temp.act_as(null);
select throws_ok('select count(*) from treasury.wallets', '42501', 'permission denied for table wallets', 'anon reads no wallets');
select throws_ok('select count(*) from treasury.payouts', '42501', 'permission denied for table payouts', 'nor payouts');
select throws_ok('select count(*) from treasury.payout_attempts', '42501', 'permission denied for table payout_attempts', 'nor attempts');
select throws_ok('select count(*) from treasury.payout_transitions', '42501', 'permission denied for table payout_transitions',
                 'nor transitions');
select ok((select minimum_minor from treasury.payout_settings where currency = '*') = 1000, 'anon reads the payout settings');
select throws_ok($$update treasury.payout_settings set minimum_minor = 1$$, '42501', 'permission denied for table payout_settings',
                 'but cannot change them');
select is(treasury.wallet_id_valid(:'wallet'), true, 'anon may check a wallet id');
select is(treasury.wallet_id_normalize(lower(:'wallet')), :'wallet', 'and normalize one');
select throws_ok('select treasury.my_wallet()', '42501', 'permission denied for function my_wallet', 'anon has no wallet');
select throws_ok($$select treasury.request_payout(1000, 'EUR')$$, '42501', 'permission denied for function request_payout', 'anon cannot request');
select throws_ok(format('select treasury.cancel_payout(%L)', :'queued'), '42501', 'permission denied for function cancel_payout', 'nor cancel');
select throws_ok(format('select treasury.release_payout(%L)', :'held'), '42501', 'permission denied for function release_payout', 'nor release');
select throws_ok('select treasury.process_payouts()', '42501', 'permission denied for function process_payouts', 'nor run the queue');
select throws_ok(format($$select treasury.link_stripe_account(%L, 'acct_x')$$, :'host'), '42501',
                 'permission denied for function link_stripe_account', 'nor link accounts');
reset role;

-- another user -----------------------------------------------------------------------------------------------
select pg_temp.act_as(:'stranger');
select is((select count(*) from treasury.wallets), 0::bigint, 'another user sees no wallet');
select is((select count(*) from treasury.payouts), 0::bigint, 'no payout');
select is((select count(*) from treasury.payout_transitions), 0::bigint, 'no transition');
select is((select count(*) from treasury.payout_attempts), 0::bigint, 'no attempt');
select ok(treasury.wallet_id_valid((select wallet_id from treasury.my_wallet())), 'their own wallet, made for them');
select is((select count(*) from treasury.wallets), 1::bigint, 'which they then read, and only it');
select throws_ok(format('select treasury.cancel_payout(%L)', :'queued'), '42501', format('payout %s is not yours', :'queued'),
                 'cannot cancel the payee''s payout');
select throws_ok(format('select treasury.release_payout(%L)', :'held'), '42501', 'releasing a held payout is for Treasury admins',
                 'nor release one');
select throws_ok(format($$select treasury.link_stripe_account(%L, 'acct_pgtapRlsMine')$$, :'stranger'), '42501',
                 'permission denied for function link_stripe_account', 'cannot link a Stripe account, even to their own wallet');
select throws_ok(format('select treasury.set_wallet_verification(%L, true)', :'stranger'), '42501',
                 'permission denied for function set_wallet_verification', 'nor verify a wallet');
select throws_ok(format($$select treasury.fail_payout_attempt(%L, 1, 'x')$$, :'sent'), '42501',
                 'permission denied for function fail_payout_attempt', 'nor report attempts');
select throws_ok('select * from treasury.check_payout_invariants()', '42501', 'permission denied for function check_payout_invariants',
                 'nor run the invariant check');
select throws_ok(format($$update treasury.payouts set state = 'paid' where id = %L$$, :'sent'), '42501',
                 'permission denied for table payouts', 'nor write payouts');
select throws_ok(format($$insert into treasury.payouts (payee_id, wallet_id, amount_minor, currency, state, due_at)
                          values (%L, 'x', 1, 'EUR', 'pending', now())$$, :'stranger'), '42501', 'permission denied for table payouts',
                 'nor create one by hand');
reset role;

-- the payee --------------------------------------------------------------------------------------------------
select pg_temp.act_as(:'artist');
select results_eq('select user_id, wallet_id, stripe_account_id, verification from treasury.wallets',
                  format($$values (%L::uuid, %L, 'acct_pgtapRls', 'verified')$$, :'artist', :'wallet'), 'the payee reads their own wallet');
select is((select array_agg(id order by amount_minor) from treasury.payouts), array[:'queued', :'sent']::uuid[],
          'their own payouts, not the host''s');
select is((select count(*) from treasury.payout_transitions), 3::bigint, 'their payouts'' transitions');
select is((select count(*) from treasury.payout_attempts), 0::bigint, 'attempts (idempotency keys) are for admins');
select throws_ok(format($$update treasury.wallets set verification = 'verified', verified_at = now() where user_id = %L$$, :'artist'),
                 '42501', 'permission denied for table wallets', 'the payee cannot change their wallet');
select throws_ok(format($$update treasury.payouts set amount_minor = 1 where id = %L$$, :'sent'), '42501',
                 'permission denied for table payouts', 'nor their payout');
select throws_ok('delete from treasury.payout_transitions', '42501', 'permission denied for table payout_transitions',
                 'nor the log');
select throws_ok('select treasury.process_payouts()', '42501', 'permission denied for function process_payouts', 'nor run the queue');
select is((select state from treasury.cancel_payout(:'queued')), 'cancelled', 'the payee cancels their own payout');
reset role;
select pg_temp.act_as(:'host');
select results_eq('select state, hold_reasons from treasury.payouts', $$values ('held', '{wallet_unverified}'::text[])$$,
                  'the host reads their held payout and why');
select throws_ok(format('select treasury.release_payout(%L)', :'held'), '42501', 'releasing a held payout is for Treasury admins',
                 'but cannot release it');
reset role;

-- an admin ---------------------------------------------------------------------------------------------------
select pg_temp.act_as(:'admin');
select is((select count(*) from treasury.wallets where user_id in (:'artist', :'host')), 2::bigint, 'an admin reads every wallet');
select is((select count(*) from treasury.payouts where id in (:'sent', :'queued', :'held')), 3::bigint, 'every payout');
select ok((select count(*) from treasury.payout_transitions where payout_id in (:'sent', :'queued', :'held')) = 5, 'every transition');
select results_eq(format($$select operation, idempotency_key from treasury.payout_attempts where payout_id = %L$$, :'sent'),
                  format($$values ('transfer', %L)$$, 'buckets_payout_' || :'sent' || '_1'), 'every attempt');
select throws_ok(format($$update treasury.payouts set state = 'paid' where id = %L$$, :'sent'), '42501',
                 'permission denied for table payouts', 'an admin writes no table directly');
select throws_ok('select treasury.process_payouts()', '42501', 'permission denied for function process_payouts',
                 'the queue is service_role''s');
select throws_ok(format($$select treasury.link_stripe_account(%L, 'acct_x')$$, :'host'), '42501',
                 'permission denied for function link_stripe_account', 'so are accounts');
select throws_ok('select * from treasury.check_payout_invariants()', '42501', 'permission denied for function check_payout_invariants',
                 'and the invariant check');
select throws_ok(format('select treasury.release_payout(%L)', :'held'), '55000', null,
                 'an admin may release, once the wallet is verified');
reset role;

-- service_role -----------------------------------------------------------------------------------------------
select pg_temp.act_as_service();
select ok((select count(*) from treasury.payout_attempts where payout_id = :'sent') = 1, 'service_role reads everything');
select is((select stripe_account_id from treasury.link_stripe_account(:'host', 'acct_pgtapRlsHost')), 'acct_pgtapRlsHost',
          'links a Stripe account');
select is((select verification from treasury.set_wallet_verification(:'host', false)), 'unverified', 'sets the verification');
select ok((treasury.process_payouts(now()) ->> 'sent') is not null, 'runs the queue');
select is((select status from treasury.payout_attempts where payout_id = :'sent'), 'open', 'reads what the worker must send');
select is((select state from treasury.fail_payout_attempt(:'sent', 1, 'api_error')), 'failed', 'reports an attempt');
select is_empty('select * from treasury.check_payout_invariants()', 'runs the invariant check');
select lives_ok($$update treasury.payout_settings set retry_base = interval '1 minute' where currency = '*'$$, 'manages the settings');
select throws_ok($$select treasury.request_payout(1000, 'EUR')$$, '42501', 'sign in to request a payout', 'but is no payee');
select throws_ok(format($$update treasury.payouts set state = 'paid' where id = %L$$, :'sent'), '42501',
                 'permission denied for table payouts', 'and writes no payout directly either');
select throws_ok('select treasury.my_wallet()', '42501', 'sign in to read your wallet', 'and has no wallet');
reset role;

-- even the owner ----------------------------------------------------------------------------------------------
select throws_ok('delete from treasury.payout_transitions', '42501', 'payout_transitions is append-only: DELETE is refused',
                 'the transitions are append-only for the owner too');
select throws_ok(format($$update treasury.payout_transitions set reason = 'x' where payout_id = %L$$, :'sent'), '42501',
                 'payout_transitions is append-only: UPDATE is refused', 'not even their reasons change');
select throws_ok('delete from treasury.payouts', '42501', 'payouts is append-only: DELETE is refused', 'payouts are kept');
select throws_ok('delete from treasury.payout_attempts', '42501', 'payout_attempts is append-only: DELETE is refused', 'attempts are kept');

select is_empty($$select * from pg_temp.violations()$$, 'no invariant is violated');

select * from finish();
rollback;
