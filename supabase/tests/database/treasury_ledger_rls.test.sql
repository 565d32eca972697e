-- Treasury: who reads and calls what. anon reads only the catalogue; a buyer reads their own
-- payments; a payee their own accounts, postings, balances and split lines; an admin
-- (treasury.admins) everything; service_role everything and the Stripe entry points. No API
-- role writes money tables directly.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(52);
\ir treasury_helpers.psql

select gen_random_uuid() as admin, gen_random_uuid() as stranger \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');
select pg_temp.receive('evt_pgtap_rls_pay', 'checkout.session.completed', 1763800000,
                       pg_temp.session('pi_pgtap_rls', 1000, :'meta')) ->> 'status' as paid \gset
select pg_temp.receive('evt_pgtap_rls_dp', 'charge.dispute.created', 1763800100,
                       pg_temp.dispute('dp_pgtap_rls', 'pi_pgtap_rls', 100, 'needs_response')) ->> 'status' as disputed \gset
select treasury.log_webhook_rejection('signature_mismatch', 'pgtap', '{}') as rejection \gset
select id as artist_payable from treasury.accounts where owner_id = :'artist' and purpose = 'payable' \gset
select id as host_payable from treasury.accounts where owner_id = :'host' and purpose = 'payable' \gset

create function pg_temp.act_as(who uuid)
returns void
language sql
as $$
  select set_config('role', 'authenticated', true),
         set_config('request.jwt.claims', json_build_object('sub', who, 'role', 'authenticated')::text, true);
$$;

-- anon -----------------------------------------------------------------------------------------------
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok('select count(*) from treasury.accounts', '42501', 'permission denied for table accounts', 'anon reads no accounts');
select throws_ok('select count(*) from public.treasury_ledger', '42501', 'permission denied for table treasury_ledger',
                 'anon reads no postings');
select throws_ok('select count(*) from treasury.payments', '42501', 'permission denied for table payments', 'anon reads no payments');
select throws_ok('select count(*) from public.treasury_splits', '42501', 'permission denied for table treasury_splits',
                 'anon reads no splits');
select ok((select count(*) >= 1 from treasury.products where id = :'product'), 'anon reads the products');
select ok((select count(*) = 8 from treasury.account_purposes where purpose in
            ('stripe_balance', 'processing_fees', 'dispute_losses', 'platform_revenue', 'dispute_reserve',
             'payouts_in_transit', 'payable', 'held')), 'anon reads the account purposes');
select is(treasury.is_admin(), false, 'anon is no admin');
select throws_ok($$select treasury.receive_stripe_event('{}')$$, '42501', 'permission denied for function receive_stripe_event',
                 'anon cannot post Stripe events');
select throws_ok($$select treasury.log_webhook_rejection('x', 'y')$$, '42501', 'permission denied for function log_webhook_rejection',
                 'anon cannot log rejections');
reset role;

-- the buyer ----------------------------------------------------------------------------------------------
select pg_temp.act_as(:'buyer');
select is((select array_agg(id) from treasury.payments), '{pi_pgtap_rls}'::text[], 'the buyer reads their payment, and only it');
select is((select count(*) from treasury.accounts), 0::bigint, 'the buyer owns no account');
select is((select count(*) from public.treasury_splits), 0::bigint, 'the buyer sees no payee''s split lines');
select is((select count(*) from treasury.disputes), 0::bigint, 'nor disputes');
select is((select count(*) from treasury.stripe_events), 0::bigint, 'nor Stripe events');
select is((select count(*) from treasury.stripe_event_problems), 0::bigint, 'nor the events admins look at');
select throws_ok($$select treasury.receive_stripe_event('{}')$$, '42501', 'permission denied for function receive_stripe_event',
                 'a user cannot post Stripe events');
select throws_ok($$select * from treasury.check_invariants()$$, '42501', 'permission denied for function check_invariants',
                 'a user cannot run the invariant check');
select throws_ok($$select treasury.retry_stripe_event('evt_pgtap_rls_pay')$$, '42501', 'permission denied for function retry_stripe_event',
                 'a user cannot retry events');
select throws_ok($$select treasury.define_split_rule('mine', '[{"role": "platform", "share_bp": 10000}]')$$, '42501',
                 'permission denied for function define_split_rule', 'a user cannot define split rules');
select throws_ok(format($$insert into public.treasury_ledger (txn_id, kind, reference, account_id, currency, amount)
                          values (1, 'x', 'y', %s, 'EUR', 1)$$, :artist_payable),
                 '42501', 'permission denied for table treasury_ledger', 'a user cannot post');
select throws_ok(format($$update treasury.payments set refunded_minor = 0 where id = 'pi_pgtap_rls'$$),
                 '42501', 'permission denied for table payments', 'a user cannot change a payment');
select throws_ok(format($$insert into treasury.admins (user_id) values (%L)$$, :'buyer'),
                 '42501', 'permission denied for table admins', 'a user cannot make themselves admin');
select throws_ok(format('select treasury.balance_at(%s, now())', :artist_payable), 'P0002',
                 format('account %s not found', :artist_payable), 'another''s account does not exist for the buyer');
reset role;

-- the artist ---------------------------------------------------------------------------------------------
select pg_temp.act_as(:'artist');
select is((select array_agg(purpose order by purpose) from treasury.accounts), '{held,payable}'::text[],
          'the artist reads their own accounts');
select is((select normal_balance from treasury.balances where account_id = :artist_payable), 630::bigint,
          'and their balance: 700 less the 70 held');
select is((select count(*) from treasury.balances), 2::bigint, 'and no other account''s balance');
select is((select count(*) from treasury.account_balances), 2::bigint, 'account_balances likewise');
select is((select count(*) from public.treasury_ledger), 3::bigint,
          'the postings to their accounts: the payment, and the hold out of payable and into held');
select is(treasury.balance_at(:artist_payable, now()), -630::bigint, 'balance_at on their own account');
select throws_ok(format('select treasury.balance_at(%s, now())', :host_payable), 'P0002',
                 format('account %s not found', :host_payable), 'not on the host''s');
select results_eq($$select role, amount_minor from public.treasury_splits$$, $$values ('artist', 700::bigint)$$,
                  'their split line only');
select is((select count(*) from treasury.split_rule_parties where rule_id = :'rule'), 1::bigint,
          'their own party row of the rule');
select is((select count(*) from treasury.split_rules), 0::bigint, 'rules themselves are for admins');
select is((select count(*) from treasury.payments), 0::bigint, 'a payee does not read the buyer''s payment');
select is((select count(*) from treasury.ledger_transactions), 0::bigint, 'nor transaction headers');
reset role;

-- a stranger -------------------------------------------------------------------------------------------------
select pg_temp.act_as(:'stranger');
select is((select count(*) from treasury.accounts) + (select count(*) from public.treasury_ledger)
          + (select count(*) from treasury.payments) + (select count(*) from public.treasury_splits), 0::bigint,
          'someone else reads none of it');
select is(treasury.is_admin(), false, 'and is no admin');
reset role;

-- an admin -------------------------------------------------------------------------------------------------
select pg_temp.act_as(:'admin');
select is(treasury.is_admin(), true, 'an admin is one');
select ok((select count(*) >= 1 from treasury.payments where id = 'pi_pgtap_rls'), 'an admin reads payments');
select ok((select count(*) >= 7 from treasury.accounts), 'every account');
select ok((select count(*) >= 1 from treasury.ledger_transactions where reference = 'pi_pgtap_rls'), 'transaction headers');
select ok((select count(*) = 3 from public.treasury_splits where payment_id = 'pi_pgtap_rls'), 'every split line');
select ok((select count(*) = 1 from treasury.disputes where id = 'dp_pgtap_rls'), 'disputes');
select ok((select count(*) = 2 from treasury.stripe_events where event_id like 'evt_pgtap_rls_%'), 'Stripe events');
select ok((select count(*) = 1 from treasury.webhook_rejections where id = :rejection), 'webhook rejections');
select ok((select count(*) >= 1 from treasury.admins where user_id = :'admin'), 'who the admins are');
select throws_ok($$select * from treasury.check_invariants()$$, '42501', 'permission denied for function check_invariants',
                 'the invariant check stays with service_role');
reset role;

-- service_role ------------------------------------------------------------------------------------------------
select pg_temp.event('evt_pgtap_rls_pay', 'checkout.session.completed', 1763800000, '{}') as redelivery \gset
set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select ok((select count(*) = 3 from public.treasury_splits where payment_id = 'pi_pgtap_rls'), 'service_role reads everything');
select is(
  treasury.receive_stripe_event(:'redelivery') ->> 'status',
  'duplicate',
  'service_role posts Stripe events'
);
select is_empty($$select * from treasury.check_invariants()$$, 'service_role runs the invariant check');
select lives_ok(format($$update treasury.products set active = false where id = %L$$, :'product'), 'service_role manages products');
select throws_ok(format($$insert into public.treasury_ledger (txn_id, kind, reference, account_id, currency, amount)
                          values (1, 'x', 'y', %s, 'EUR', 1)$$, :artist_payable),
                 '42501', 'permission denied for table treasury_ledger', 'service_role cannot post directly either');
reset role;

select * from finish();
rollback;
