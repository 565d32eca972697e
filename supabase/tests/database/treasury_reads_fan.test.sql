-- Treasury reads for fans: total spent, the transaction history (payments, refunds, chargebacks;
-- filters by date range, type and product type; keyset pagination by (occurred_at, id)) and the
-- receipt of a payment. A user reads only their own money; admins anyone's; errors are 42501
-- for another user's data and 22023 for bad arguments.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(36);
\ir treasury_payouts_helpers.psql

select gen_random_uuid() as admin, gen_random_uuid() as stranger, gen_random_uuid() as other_buyer \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');
insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
values ('merch', 'pgTAP shirt', :'artist', :'host', 2500, 'EUR', :'rule') returning id as merch \gset
insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
values ('tip', 'pgTAP tip jar', :'artist', :'host', null, 'EUR', :'rule') returning id as tip \gset
select jsonb_build_object('product_id', :'merch', 'buyer_id', :'buyer') as merch_meta,
       jsonb_build_object('product_id', :'tip', 'buyer_id', :'buyer') as tip_meta,
       jsonb_build_object('product_id', :'product', 'buyer_id', :'other_buyer') as other_meta,
       86400 as d \gset

-- Five days of a fan's money, Stripe's times relative to now.
select count(*) as events from (
  select pg_temp.receive(e.id, e.type, pg_temp.ts(e.offset_s), e.object)
  from (values
    (1, 'evt_pgtap_fan_1', 'checkout.session.completed', -5 * :d, pg_temp.session('pi_pgtap_fan_1', 10000, :'meta')),
    (2, 'evt_pgtap_fan_2', 'checkout.session.completed', -3 * :d, pg_temp.session('pi_pgtap_fan_2', 2500, :'merch_meta')),
    (3, 'evt_pgtap_fan_r1', 'charge.refunded', -2 * :d, pg_temp.charge('pi_pgtap_fan_1', 10000, 4000)),
    (4, 'evt_pgtap_fan_dp', 'charge.dispute.created', -36 * 3600, pg_temp.dispute('dp_pgtap_fan', 'pi_pgtap_fan_2', 2500, 'needs_response')),
    (5, 'evt_pgtap_fan_dpc', 'charge.dispute.closed', -30 * 3600, pg_temp.dispute('dp_pgtap_fan', 'pi_pgtap_fan_2', 2500, 'lost')),
    (6, 'evt_pgtap_fan_3', 'checkout.session.completed', -1 * :d, pg_temp.session('pi_pgtap_fan_3', 1000, :'tip_meta')),
    (7, 'evt_pgtap_fan_other', 'checkout.session.completed', -1 * :d, pg_temp.session('pi_pgtap_fan_other', 7777, :'other_meta'))
  ) as e(n, id, type, offset_s, object)
  order by e.n
) as applied \gset
select pg_temp.at(-5 * :d) as t5, pg_temp.at(-4 * :d) as t4, pg_temp.at(-3 * :d) as t3, pg_temp.at(-2 * :d) as t2,
       pg_temp.at(-30 * 3600) as t30h, pg_temp.at(-1 * :d) as t1 \gset

-- Total spent ------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'buyer');
select results_eq('select * from treasury.fan_total_spent()',
                  $$values ('EUR', 3::bigint, 13500::bigint, 4000::bigint, 2500::bigint, 7000::bigint)$$,
                  'the fan''s total: 3 payments, 13500 spent, 4000 refunded, 2500 charged back, 7000 net');
select is_empty($$select * from treasury.fan_total_spent(null, 'usd')$$, 'nothing in another currency');
select throws_ok($$select * from treasury.fan_total_spent(null, 'euro')$$, '22023', 'currency must be a 3-letter ISO 4217 code, got euro',
                 'a bad currency is refused');

-- History -----------------------------------------------------------------------------------------------------

select results_eq(
  'select id, type, occurred_at, payment_id, product_type, product_title, amount_minor, currency from treasury.fan_transactions()',
  format($$values ('pi_pgtap_fan_3', 'payment', %L::timestamptz, 'pi_pgtap_fan_3', 'tip', 'pgTAP tip jar', 1000::bigint, 'EUR'),
                  ('dp_pgtap_fan', 'chargeback', %L, 'pi_pgtap_fan_2', 'merch', 'pgTAP shirt', -2500, 'EUR'),
                  ('pi_pgtap_fan_1:refunded:4000', 'refund', %L, 'pi_pgtap_fan_1', 'ticket', 'pgTAP night', -4000, 'EUR'),
                  ('pi_pgtap_fan_2', 'payment', %L, 'pi_pgtap_fan_2', 'merch', 'pgTAP shirt', 2500, 'EUR'),
                  ('pi_pgtap_fan_1', 'payment', %L, 'pi_pgtap_fan_1', 'ticket', 'pgTAP night', 10000, 'EUR')$$,
         :'t1', :'t30h', :'t2', :'t3', :'t5'),
  'the history, newest first, at Stripe''s times: payments positive, the refund and the chargeback negative'
);
select is((select sum(amount_minor) from treasury.fan_transactions()), 7000::numeric, 'which sums to the net spent');
select results_eq($$select id from treasury.fan_transactions(types => '{refund,chargeback}')$$,
                  $$values ('dp_pgtap_fan'), ('pi_pgtap_fan_1:refunded:4000')$$, 'filtered by type');
select results_eq($$select id from treasury.fan_transactions(product_types => '{merch}')$$,
                  $$values ('dp_pgtap_fan'), ('pi_pgtap_fan_2')$$, 'by product type');
select results_eq(format($$select id from treasury.fan_transactions(from_at => %L, to_at => %L)$$, :'t4', :'t1'),
                  $$values ('dp_pgtap_fan'), ('pi_pgtap_fan_1:refunded:4000'), ('pi_pgtap_fan_2')$$,
                  'by date range [from_at, to_at)');
select results_eq(format($$select id from treasury.fan_transactions(from_at => %L, types => '{payment}')$$, :'t1'),
                  $$values ('pi_pgtap_fan_3')$$, 'filters combine');

-- Keyset pagination
select occurred_at as k_at, id as k_id from treasury.fan_transactions(page_size => 2) offset 1 limit 1 \gset
select results_eq('select id from treasury.fan_transactions(page_size => 2)', $$values ('pi_pgtap_fan_3'), ('dp_pgtap_fan')$$,
                  'page 1 of 2 rows');
select results_eq(format($$select id from treasury.fan_transactions(page_size => 2, before_at => %L, before_id => %L)$$, :'k_at', :'k_id'),
                  $$values ('pi_pgtap_fan_1:refunded:4000'), ('pi_pgtap_fan_2')$$, 'page 2 starts after the last row of page 1');
select occurred_at as k_at, id as k_id
from treasury.fan_transactions(page_size => 2, before_at => :'k_at', before_id => :'k_id') offset 1 limit 1 \gset
select results_eq(format($$select id from treasury.fan_transactions(page_size => 2, before_at => %L, before_id => %L)$$, :'k_at', :'k_id'),
                  $$values ('pi_pgtap_fan_1')$$, 'page 3 holds the last row');
select is_empty(format($$select id from treasury.fan_transactions(page_size => 2, before_at => %L, before_id => 'pi_pgtap_fan_1')$$, :'t5'),
                'and after it there is nothing');

select throws_ok($$select * from treasury.fan_transactions(page_size => 0)$$, '22023', 'page_size must be between 1 and 200, got 0',
                 'page_size is 1 to 200');
select throws_ok($$select * from treasury.fan_transactions(types => '{purchase}')$$, '22023',
                 'types may hold payment, refund, chargeback; got purchase', 'an unknown type is refused');
select throws_ok($$select * from treasury.fan_transactions(product_types => '{vinyl}')$$, '22023',
                 'product_types may hold ticket, membership, drop, merch, tip, sponsorship; got vinyl', 'and an unknown product type');
select throws_ok($$select * from treasury.fan_transactions(before_at => now())$$, '22023', 'before_at and before_id go together',
                 'the keyset is two values');
select throws_ok($$select * from treasury.fan_transactions(from_at => now(), to_at => now() - interval '1 day')$$, '22023', null,
                 'a range that ends before it starts is refused');

-- Receipts ------------------------------------------------------------------------------------------------------

select is(treasury.receipt('pi_pgtap_fan_1') - 'paid_at' - 'buyer_id' - 'product' - 'refunds' - 'artist_id' - 'host_id',
          jsonb_build_object('payment_id', 'pi_pgtap_fan_1', 'event_id', null, 'tier_id', null, 'quantity', 1,
                             'amount_minor', 10000, 'currency', 'EUR', 'refunded_minor', 4000, 'charged_back_minor', 0,
                             'net_minor', 6000, 'status', 'partially_refunded', 'checkout_session_id', 'cs_pgtap_fan_1',
                             'charge_id', 'ch_pgtap_fan_1', 'livemode', false),
          'the buyer reads the receipt: amounts, refunded, net, status');
select is(treasury.receipt('pi_pgtap_fan_1') -> 'product' ->> 'title', 'pgTAP night', 'with the product');
select is(jsonb_array_length(treasury.receipt('pi_pgtap_fan_1') -> 'refunds'), 1, 'and the refunds');
select is(treasury.receipt('pi_pgtap_fan_1') -> 'refunds' -> 0 ->> 'amount_minor', '4000', 'each with its amount');
select is(treasury.receipt('pi_pgtap_fan_2') ->> 'status', 'charged_back', 'a lost dispute shows as charged back');
select throws_ok($$select treasury.receipt('pi_pgtap_fan_other')$$, '42501', 'payment pi_pgtap_fan_other is not yours',
                 'another buyer''s receipt is refused');
select throws_ok($$select treasury.receipt('pi_pgtap_nope')$$, 'P0002', 'payment pi_pgtap_nope not found', 'an unknown payment is not found');
select throws_ok($$select treasury.receipt(null)$$, '22023', 'payment_id is required', 'payment_id is required');
select throws_ok(format($$select * from treasury.fan_total_spent(%L)$$, :'other_buyer'), '42501', 'you can only read your own money',
                 'the fan cannot read another fan''s total');
select is((select count(*) from treasury.fan_transactions(:'buyer')), 5::bigint, 'naming themselves is fine');
reset role;

-- Another user, anon, admin, service_role -------------------------------------------------------------------------

select pg_temp.act_as(:'stranger');
select is_empty('select * from treasury.fan_transactions()', 'a user who bought nothing has no history');
select throws_ok(format($$select * from treasury.fan_transactions(%L)$$, :'buyer'), '42501', 'you can only read your own money',
                 'and cannot read the fan''s');
reset role;
select pg_temp.act_as(null);
select throws_ok('select * from treasury.fan_total_spent()', '42501', 'permission denied for function fan_total_spent', 'anon reads no totals');
select throws_ok($$select treasury.receipt('pi_pgtap_fan_1')$$, '42501', 'permission denied for function receipt', 'nor receipts');
reset role;
select pg_temp.act_as(:'admin');
select is((select net_minor from treasury.fan_total_spent(:'buyer')), 7000::bigint, 'an admin reads the fan''s total');
select is(treasury.receipt('pi_pgtap_fan_other') ->> 'amount_minor', '7777', 'and any receipt');
reset role;
select pg_temp.act_as_service();
select throws_ok('select * from treasury.fan_transactions()', '22023', 'for_user is required when the caller is not a signed-in user',
                 'service_role names the user');
select is((select count(*) from treasury.fan_transactions(:'buyer')), 5::bigint, 'and reads them');
reset role;

select * from finish();
rollback;
