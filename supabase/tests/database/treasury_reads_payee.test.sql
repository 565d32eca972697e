-- Treasury reads for artists and hosts: revenue this month and all time, available, on hold,
-- in payout, pending and paid out (earnings_summary); revenue by source (ticket, membership,
-- drop, merch, tip); payout history with keyset pagination; top fans by spend. A payee reads
-- only their own money; admins anyone's; 42501 for another user's data, 22023 for bad arguments.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(36);
\ir treasury_payouts_helpers.psql

select gen_random_uuid() as admin, gen_random_uuid() as fan_b \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');
insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
values ('merch', 'pgTAP shirt', :'artist', :'host', 5000, 'EUR', :'rule') returning id as merch \gset
insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
values ('tip', 'pgTAP tip jar', :'artist', :'host', null, 'EUR', :'rule') returning id as tip \gset
select jsonb_build_object('product_id', :'merch', 'buyer_id', :'fan_b') as merch_meta,
       jsonb_build_object('product_id', :'tip', 'buyer_id', :'buyer') as tip_meta \gset

-- Forty days ago a ticket (fan A); this month merch (fan B, 1000 of it refunded) and a tip (fan A).
select count(*) as events from (
  select pg_temp.receive(e.id, e.type, pg_temp.ts(e.offset_s), e.object)
  from (values
    (1, 'evt_pgtap_pay_1', 'checkout.session.completed', -40 * 86400, pg_temp.session('pi_pgtap_pay_1', 10000, :'meta')),
    (2, 'evt_pgtap_pay_2', 'checkout.session.completed', 0, pg_temp.session('pi_pgtap_pay_2', 5000, :'merch_meta')),
    (3, 'evt_pgtap_pay_3', 'checkout.session.completed', 0, pg_temp.session('pi_pgtap_pay_3', 2000, :'tip_meta')),
    (4, 'evt_pgtap_pay_r2', 'charge.refunded', 0, pg_temp.charge('pi_pgtap_pay_2', 5000, 1000)),
    (5, 'evt_pgtap_pay_dp', 'charge.dispute.created', 0, pg_temp.dispute('dp_pgtap_pay', 'pi_pgtap_pay_1', 2000, 'needs_response'))
  ) as e(n, id, type, offset_s, object)
  order by e.n
) as applied \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapPayee') as wallet \gset
select pg_temp.request(:'artist', 3000) as paid_payout \gset
select treasury.process_payouts(pg_temp.at(60)) as run \gset
select pg_temp.receive_connect('evt_pgtap_pay_po', 'payout.paid', pg_temp.ts(70),
                               pg_temp.bank_payout('po_pgtap_pay', :'paid_payout', 1, 3000, 'paid'), 'acct_pgtapPayee') ->> 'status' as s \gset
select pg_temp.request(:'artist', 2000) as open_payout \gset
select date_trunc('month', now(), 'UTC') as month_start, pg_temp.at(-40 * 86400) as t40 \gset

-- Summary --------------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'artist');
select results_eq('select * from treasury.earnings_summary()',
                  $$values ('EUR', 4200::bigint, 11200::bigint, 4800::bigint, 1400::bigint, 2000::bigint, 3400::bigint, 3000::bigint)$$,
                  'the artist: 4200 this month (3500 + 1400 - 700 refunded), 11200 in all, 4800 available, 1400 held by the '
                  || 'dispute, 2000 in payout, 3400 pending, 3000 paid out');
select results_eq($$select revenue_this_month_minor, available_minor from treasury.earnings_summary(time_zone => 'Pacific/Kiritimati')$$,
                  $$values (4200::bigint, 4800::bigint)$$, 'a time zone moves only the month''s start');
select throws_ok($$select * from treasury.earnings_summary(time_zone => 'Mars/Olympus')$$, '22023',
                 'time zone "Mars/Olympus" not recognized', 'an unknown time zone is refused');
select throws_ok($$select * from treasury.earnings_summary(time_zone => null)$$, '22023',
                 'time_zone is required (an IANA name such as Europe/Paris, or UTC)', 'and none at all');
select results_eq(format($$select * from treasury.earnings_summary(%L)$$, :'artist'),
                  'select * from treasury.earnings_summary()', 'naming themselves reads the same');
select throws_ok(format($$select * from treasury.earnings_summary(%L)$$, :'host'), '42501', 'you can only read your own money',
                 'the artist cannot read the host''s');

-- By source ------------------------------------------------------------------------------------------------------

select results_eq('select * from treasury.revenue_by_source()',
                  $$values ('ticket', 'EUR', 1::bigint, 7000::bigint, 0::bigint, 7000::bigint),
                           ('membership', 'EUR', 0, 0, 0, 0), ('drop', 'EUR', 0, 0, 0, 0),
                           ('merch', 'EUR', 1, 3500, 700, 2800), ('tip', 'EUR', 1, 1400, 0, 1400),
                           ('sponsorship', 'EUR', 0, 0, 0, 0)$$,
                  'revenue by source, all six, refunds netted; an open dispute is no reversal');
select results_eq(format($$select source, net_minor from treasury.revenue_by_source(from_at => %L) where net_minor <> 0$$, :'month_start'),
                  $$values ('merch', 2800::bigint), ('tip', 1400::bigint)$$, 'this month only');
select results_eq(format($$select source, net_minor from treasury.revenue_by_source(to_at => %L) where net_minor <> 0$$, :'month_start'),
                  $$values ('ticket', 7000::bigint)$$, 'before this month only');
select throws_ok($$select * from treasury.revenue_by_source(from_at => now(), to_at => now() - interval '1 day')$$, '22023', null,
                 'a backwards range is refused');

-- Payout history -------------------------------------------------------------------------------------------------

select set_eq('select payout_id, state, amount_minor, attempts, will_retry from treasury.payout_history()',
              format($$values (%L::uuid, 'pending', 2000::bigint, 0, false), (%L::uuid, 'paid', 3000::bigint, 1, false)$$,
                     :'open_payout', :'paid_payout'), 'the payouts');
select results_eq('select payout_id from treasury.payout_history()',
                  format($$select id from treasury.payouts where payee_id = %L order by requested_at desc, id desc$$, :'artist'),
                  'newest first, ties by id (both were asked in this transaction)');
select requested_at as k_at, payout_id as k_id from treasury.payout_history(page_size => 1) \gset
select results_eq(format($$select payout_id from treasury.payout_history(page_size => 1, before_at => %L, before_id => %L)$$, :'k_at', :'k_id'),
                  format($$values (%L::uuid)$$, case when :'k_id' = :'open_payout' then :'paid_payout' else :'open_payout' end),
                  'keyset pagination: the next page starts after the last row');
select results_eq($$select payout_id from treasury.payout_history(states => '{paid}')$$, format($$values (%L::uuid)$$, :'paid_payout'),
                  'filtered by state');
select throws_ok($$select * from treasury.payout_history(states => '{lost}')$$, '22023',
                 'states may hold held, pending, processing, paid, failed, cancelled; got lost', 'an unknown state is refused');
select throws_ok($$select * from treasury.payout_history(before_id => gen_random_uuid())$$, '22023', 'before_at and before_id go together',
                 'the keyset is two values');
select throws_ok($$select * from treasury.payout_history(page_size => 201)$$, '22023', 'page_size must be between 1 and 200, got 201',
                 'pages are at most 200');

-- Top fans -------------------------------------------------------------------------------------------------------

select results_eq('select fan_id, currency, payments, spent_minor, rank from treasury.top_fans()',
                  format($$values (%L::uuid, 'EUR', 2::bigint, 12000::bigint, 1::bigint), (%L::uuid, 'EUR', 1::bigint, 4000::bigint, 2::bigint)$$,
                         :'buyer', :'fan_b'), 'top fans by net spend on the artist''s sales');
select results_eq('select fan_id from treasury.top_fans(lim => 1)', format($$values (%L::uuid)$$, :'buyer'), 'limited');
select results_eq(format($$select fan_id, spent_minor from treasury.top_fans(from_at => %L)$$, :'month_start'),
                  format($$values (%L::uuid, 4000::bigint), (%L::uuid, 2000::bigint)$$, :'fan_b', :'buyer'), 'this month, fan B leads');
select is_empty($$select * from treasury.top_fans(for_currency => 'USD')$$, 'none in USD');
select throws_ok($$select * from treasury.top_fans(lim => 0)$$, '22023', 'lim must be between 1 and 100, got 0', 'lim is 1 to 100');
reset role;

-- The host, another user, anon, admin, service_role ----------------------------------------------------------------

select pg_temp.act_as(:'host');
select results_eq('select revenue_this_month_minor, revenue_all_time_minor, available_minor, on_hold_minor from treasury.earnings_summary()',
                  $$values (1200::bigint, 3200::bigint, 2800::bigint, 400::bigint)$$, 'the host reads their 20 %');
select results_eq('select fan_id from treasury.top_fans()', format($$values (%L::uuid), (%L::uuid)$$, :'buyer', :'fan_b'),
                  'and the same fans');
select is_empty('select * from treasury.payout_history()', 'and no payouts');
select throws_ok(format($$select * from treasury.top_fans(%L)$$, :'artist'), '42501', 'you can only read your own money',
                 'not the artist''s top fans');
reset role;
select pg_temp.act_as(:'fan_b');
select is_empty('select * from treasury.earnings_summary()', 'a fan who earns nothing has no earnings');
select throws_ok(format($$select * from treasury.payout_history(%L)$$, :'artist'), '42501', 'you can only read your own money',
                 'and reads no payee''s payouts');
select throws_ok(format($$select * from treasury.revenue_by_source(%L)$$, :'artist'), '42501', 'you can only read your own money',
                 'nor their revenue');
reset role;
select pg_temp.act_as(null);
select throws_ok('select * from treasury.earnings_summary()', '42501', 'permission denied for function earnings_summary',
                 'anon reads no earnings');
select throws_ok('select * from treasury.top_fans()', '42501', 'permission denied for function top_fans', 'nor top fans');
reset role;
select pg_temp.act_as(:'admin');
select is((select available_minor from treasury.earnings_summary(:'artist')), 4800::bigint, 'an admin reads the artist''s summary');
select is((select count(*) from treasury.payout_history(:'artist')), 2::bigint, 'and payouts');
reset role;
select pg_temp.act_as_service();
select throws_ok('select * from treasury.top_fans()', '22023', 'for_user is required when the caller is not a signed-in user',
                 'service_role names the payee');
select is((select count(*) from treasury.revenue_by_source(:'artist')), 6::bigint, 'and reads them');
reset role;

select is_empty($$select * from pg_temp.violations()$$, 'no invariant is violated');

select * from finish();
rollback;
