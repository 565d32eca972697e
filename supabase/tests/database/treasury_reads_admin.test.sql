-- Treasury reads for admins: the trial balance per account and per currency (debits = credits,
-- now and at a past moment), platform revenue over a period (shares, reversals, fees), open
-- disputes and held payouts. Only Treasury admins (and service_role) read them: 42501 for
-- everyone else.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(24);
\ir treasury_payouts_helpers.psql

select gen_random_uuid() as admin \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');

-- Stripe times in 2001, a period nothing else in the database uses: before the platform existed, so
-- the floor of Passport's occurred_at (passport.limits) is moved back for this test.
update passport.limits set platform_start = '2001-01-01 00:00:00+00';
select count(*) as events from (
  select pg_temp.receive(e.id, e.type, e.created, e.object)
  from (values
    (1, 'evt_pgtap_adm_1', 'payment_intent.succeeded', 990000000,
     pg_temp.intent('pi_pgtap_adm_1', 10000, :'meta', '{"id": "ch_pgtap_adm_1", "balance_transaction": {"fee": 320, "currency": "eur"}}')),
    (2, 'evt_pgtap_adm_2', 'checkout.session.completed', 990000100, pg_temp.session('pi_pgtap_adm_2', 5000, :'meta')),
    (3, 'evt_pgtap_adm_r2', 'charge.refunded', 990000200, pg_temp.charge('pi_pgtap_adm_2', 5000, 1000)),
    (4, 'evt_pgtap_adm_dp1', 'charge.dispute.created', 990000300, pg_temp.dispute('dp_pgtap_adm_1', 'pi_pgtap_adm_1', 3000, 'needs_response', '{1500}')),
    (5, 'evt_pgtap_adm_3', 'checkout.session.completed', 990000400, pg_temp.session('pi_pgtap_adm_3', 2000, :'meta')),
    (6, 'evt_pgtap_adm_dp3', 'charge.dispute.created', 990000500, pg_temp.dispute('dp_pgtap_adm_3', 'pi_pgtap_adm_3', 2000, 'needs_response')),
    (7, 'evt_pgtap_adm_dp3c', 'charge.dispute.closed', 990000600, pg_temp.dispute('dp_pgtap_adm_3', 'pi_pgtap_adm_3', 2000, 'lost'))
  ) as e(n, id, type, created, object)
  order by e.n
) as applied \gset
select pg_temp.request(:'host', 1000) as held \gset
select id as artist_payable from treasury.accounts where owner_id = :'artist' and purpose = 'payable' \gset

-- Trial balance --------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'admin');
select results_eq(format($$select purpose, debit_minor, credit_minor from treasury.trial_balance('EUR') where owner_id = %L$$, :'artist'),
                  $$values ('held', 0::bigint, 2100::bigint), ('payable', 0::bigint, 7700::bigint)$$,
                  'the artist''s accounts sit in the credit column: 70 % of 17000 less 700 refunded and 1400 lost is 9800, '
                  || 'of which 2100 held by the open dispute');
select results_eq(format($$select purpose, debit_minor, credit_minor from treasury.trial_balance('EUR') where owner_id = %L order by purpose$$, :'host'),
                  $$values ('held', 0::bigint, 600::bigint), ('payable', 0::bigint, 1200::bigint)$$,
                  'the host''s: 2800 earned, 600 held, 1000 in a held payout');
select results_eq($$select balanced, debit_minor = credit_minor from treasury.trial_balance_totals('EUR')$$, $$values (true, true)$$,
                  'per currency the debit column equals the credit column');
select is_empty($$select * from treasury.trial_balance_totals() where not balanced$$, 'in every currency');
select is((select sum(debit_minor) - sum(credit_minor) from treasury.trial_balance()), 0::numeric, 'so the whole trial balance nets to zero');
select results_eq(format($$select debit_minor, credit_minor from treasury.trial_balance('EUR', now() - interval '1 second') where account_id = %L$$,
                         :'artist_payable'),
                  $$values (0::bigint, 0::bigint)$$, 'at a moment before it was posted, the account was empty');
select is_empty($$select * from treasury.trial_balance_totals('EUR', now() - interval '1 second') where not balanced$$,
                'and the past trial balance balanced too');
select throws_ok($$select * from treasury.trial_balance('euros')$$, '22023', 'currency must be a 3-letter ISO 4217 code, got euros',
                 'a bad currency is refused');

-- Platform revenue ---------------------------------------------------------------------------------------------

select results_eq($$select * from treasury.platform_revenue('2001-01-01', '2002-01-01')$$,
                  $$values ('EUR', 1700::bigint, 300::bigint, 1400::bigint, 320::bigint, 1500::bigint, -420::bigint)$$,
                  'in 2001: 10 % of 17000, less 100 refunded and 200 lost; 320 processing fees, 1500 dispute fees');
select results_eq($$select gross_minor, reversed_minor, processing_fees_minor from treasury.platform_revenue(to_timestamp(990000050), to_timestamp(990000250))$$,
                  $$values (500::bigint, 100::bigint, 0::bigint)$$, 'a narrower window sees only what happened in it');
select is_empty($$select * from treasury.platform_revenue('2001-01-01', '2002-01-01', 'USD')$$, 'none in USD');
select throws_ok($$select * from treasury.platform_revenue(now(), now() - interval '1 day')$$, '22023', null, 'a backwards range is refused');

-- Open disputes, held payouts ------------------------------------------------------------------------------------

select results_eq($$select dispute_id, payment_id, buyer_id, amount_minor, currency, status from treasury.open_disputes()
                    where dispute_id like 'dp_pgtap_adm_%'$$,
                  format($$values ('dp_pgtap_adm_1', 'pi_pgtap_adm_1', %L::uuid, 3000::bigint, 'EUR', 'needs_response')$$, :'buyer'),
                  'the open dispute, not the closed one');
select results_eq(format($$select payee_id, amount_minor, hold_reasons from treasury.held_payouts() where payout_id = %L$$, :'held'),
                  format($$values (%L::uuid, 1000::bigint, '{wallet_unverified}'::text[])$$, :'host'), 'the held payout');
reset role;

-- Nobody else -----------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'artist');
select throws_ok('select * from treasury.trial_balance()', '42501', 'the trial balance is for Treasury admins', 'a payee reads no trial balance');
select throws_ok('select * from treasury.trial_balance_totals()', '42501', 'the trial balance is for Treasury admins', 'nor its totals');
select throws_ok('select * from treasury.platform_revenue()', '42501', 'platform revenue is for Treasury admins', 'nor platform revenue');
select throws_ok('select * from treasury.open_disputes()', '42501', 'open disputes is for Treasury admins', 'nor disputes');
select throws_ok('select * from treasury.held_payouts()', '42501', 'held payouts is for Treasury admins', 'nor held payouts');
reset role;
select pg_temp.act_as(null);
select throws_ok('select * from treasury.trial_balance()', '42501', 'permission denied for function trial_balance', 'anon reads none of it');
select throws_ok('select * from treasury.open_disputes()', '42501', 'permission denied for function open_disputes', 'nothing');
reset role;
select pg_temp.act_as_service();
select is_empty($$select * from treasury.trial_balance_totals() where not balanced$$, 'service_role reads the trial balance');
select ok((select count(*) from treasury.held_payouts() where payout_id = :'held') = 1, 'and the held payouts');
reset role;

select is_empty($$select * from pg_temp.violations()$$, 'no invariant is violated');

select * from finish();
rollback;
