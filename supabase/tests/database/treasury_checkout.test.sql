-- Checkout (docs/treasury-checkout.md): treasury.begin_checkout prices every kind of item from the
-- database and refuses bad ones with a stable code, holds ticket seats as long as the session
-- lives, answers a retried request with the same checkout; checkout_opened / checkout_failed
-- record Stripe's answer; checkout.session.completed / expired move the checkout and release
-- what it held; a buyer reads only their own checkouts.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(67);
\ir concierto_helpers.psql

select treasury.define_split_rule('pgtap artist 90/10', jsonb_build_array(
  jsonb_build_object('party_id', :'headliner', 'role', 'artist', 'share_bp', 9000),
  jsonb_build_object('party_id', null, 'role', 'platform', 'share_bp', 1000))) as rule \gset
insert into treasury.products (type, title, artist_id, price_minor, currency, split_rule_id, active) values
  ('tip', 'Tip for the headliner', :'headliner', null, 'EUR', :'rule', true),
  ('membership', 'Headliner fan club', :'headliner', 500, 'EUR', :'rule', true),
  ('drop', 'Signed vinyl', :'headliner', 3000, 'EUR', :'rule', true),
  ('merch', 'Tour shirt', :'headliner', 2000, 'EUR', :'rule', false),
  ('membership', 'Support club', :'support', 700, 'EUR', :'rule', false);
select id as vinyl from treasury.products where title = 'Signed vinyl' \gset
select id as shirt from treasury.products where title = 'Tour shirt' \gset
select id as club from treasury.products where title = 'Headliner fan club' \gset
select id as tip_jar from treasury.products where title = 'Tip for the headliner' \gset

-- begin_checkout as who, with an optional client_request_id.
create function pg_temp.begin(who uuid, items jsonb, request_id text default null)
returns jsonb
language sql
as $$
  select pg_temp.as_user(who, format('select treasury.begin_checkout(%L::jsonb, %L)', items, request_id))
$$;

create function pg_temp.begin_sql(who uuid, items jsonb)
returns text
language sql
as $$
  select pg_temp.call_as(who, format('select treasury.begin_checkout(%L::jsonb)', items))
$$;

-- The DETAIL (stable code) of the error begin_checkout raises for items.
create function pg_temp.refusal(who uuid, items jsonb)
returns text
language plpgsql
as $$
declare
  code text;
  state text;
begin
  perform pg_temp.begin(who, items);
  return 'no error';
exception when others then
  get stacked diagnostics code = pg_exception_detail, state = returned_sqlstate;
  return state || ' ' || code;
end
$$;

-- Tickets ---------------------------------------------------------------------------------------

select pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'tier', 'quantity', 2))) as tix \gset
select is(:'tix'::jsonb - 'checkout_id' - 'expires_at' - 'idempotency_key' - 'session_params',
          '{"status": "creating", "kind": "ticket", "mode": "payment", "amount_minor": 5000, "currency": "EUR"}',
          'two seats of the 25.00 EUR tier: a payment checkout of 50.00 EUR, priced from the tier');
select is(:'tix'::jsonb ->> 'idempotency_key', 'buckets_checkout_' || (:'tix'::jsonb ->> 'checkout_id'),
          'the Stripe Idempotency-Key is derived from the checkout id');
select is(:'tix'::jsonb #> '{session_params,line_items}',
          '[{"price_data": {"currency": "eur", "unit_amount": 2500, "product_data": {"name": "pgTAP live · General"}}, "quantity": 2}]',
          'one line item: the tier''s unit price (lower-case currency, as Stripe takes it) times the seats');
select is(:'tix'::jsonb #> '{session_params,metadata}',
          (select jsonb_build_object('product_id', t.product_id::text, 'buyer_id', :'buyer', 'quantity', '2',
                                     'event_id', t.event_id::text, 'tier_id', t.id::text, 'order_id', o.id::text,
                                     'checkout_id', :'tix'::jsonb ->> 'checkout_id')
           from concierto.ticket_tiers as t join concierto.orders as o on o.tier_id = t.id and o.buyer_id = :'buyer'
           where t.id = :'tier'),
          'the metadata is the webhook''s contract (product, buyer, quantity, event, tier, order) plus checkout_id');
select is(:'tix'::jsonb #> '{session_params,payment_intent_data,metadata}', :'tix'::jsonb #> '{session_params,metadata}',
          'and is copied to the PaymentIntent');
select is(:'tix'::jsonb #>> '{session_params,client_reference_id}', :'buyer', 'client_reference_id is the buyer');
select ok(:'tix'::jsonb #> '{session_params,customer}' is null, 'a buyer without a Stripe customer names none');
select is((:'tix'::jsonb ->> 'expires_at')::bigint, (:'tix'::jsonb #>> '{session_params,expires_at}')::bigint,
          'the session expires when the checkout does');
select ok((:'tix'::jsonb ->> 'expires_at')::bigint - extract(epoch from now()) between 31 * 60 and 24 * 3600,
          'within Stripe''s 30 minutes to 24 hours');
select is((select floor(extract(epoch from o.expires_at))::bigint from concierto.orders as o
           where o.id = (select c.order_id from treasury.checkouts as c where c.id = (:'tix'::jsonb ->> 'checkout_id')::uuid)),
          (:'tix'::jsonb ->> 'expires_at')::bigint,
          'the seats are held exactly as long as the session lives');
select is((select concierto_private.held_seats(:'tier')), 2::bigint, 'two seats are held');
select is(pg_temp.refusal(:'friend', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'tier', 'quantity', 4))),
          '55000 sold_out', 'three seats are left: four are sold_out (55000)');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', gen_random_uuid(), 'quantity', 1))),
          'P0002 unknown_item', 'an unknown tier is unknown_item (P0002)');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'tier', 'quantity', 11))),
          '22023 invalid_item', 'eleven seats are invalid_item (22023)');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'tier', 'quantity', 1.5))),
          '22023 invalid_item', 'a fractional quantity is invalid_item');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', 'x', 'quantity', 1))),
          '22023 invalid_item', 'a tier_id that is no UUID is invalid_item');
update concierto.ticket_tiers set sale_ends_at = now() - interval '1 second', sale_starts_at = now() - interval '1 day'
where id = :'other_tier';
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'other_tier', 'quantity', 1))),
          '55000 sale_closed', 'a closed sale is sale_closed');

-- Opening, failing, expiring ------------------------------------------------------------------

select throws_ok(pg_temp.call_as(:'friend', format($$select treasury.checkout_opened(%L, '{"id": "cs_x", "url": "https://x", "expires_at": 1}')$$,
                                                    :'tix'::jsonb ->> 'checkout_id')),
                 'P0002', format('checkout %s not found', :'tix'::jsonb ->> 'checkout_id'),
                 'another user cannot open the buyer''s checkout');
select throws_ok(pg_temp.call_as(:'buyer', format($$select treasury.checkout_opened(%L, '{"id": "pi_x", "url": "https://x", "expires_at": 1}')$$,
                                                   :'tix'::jsonb ->> 'checkout_id')),
                 '22023', null, 'a session must be a Checkout Session');
select pg_temp.as_user(:'buyer', format($$select treasury.checkout_opened(%L, jsonb_build_object('id', 'cs_test_tix', 'url', 'https://checkout.stripe.com/c/pay/cs_test_tix', 'expires_at', %s))$$,
                                        :'tix'::jsonb ->> 'checkout_id', :'tix'::jsonb ->> 'expires_at')) as opened \gset
select is(:'opened'::jsonb -> 'session',
          jsonb_build_object('id', 'cs_test_tix', 'url', 'https://checkout.stripe.com/c/pay/cs_test_tix', 'expires_at', (:'tix'::jsonb ->> 'expires_at')::bigint),
          'checkout_opened records the session');
select is(:'opened'::jsonb ->> 'status', 'open', 'the checkout is open');
select ok(:'opened'::jsonb -> 'session_params' is null, 'an open checkout hands out no parameters to call Stripe with');
select is(pg_temp.as_user(:'buyer', format($$select treasury.checkout_opened(%L, jsonb_build_object('id', 'cs_test_tix', 'url', 'https://checkout.stripe.com/c/pay/cs_test_tix', 'expires_at', %s))$$,
                                           :'tix'::jsonb ->> 'checkout_id', :'tix'::jsonb ->> 'expires_at')),
          :'opened'::jsonb, 'recording the same session again changes nothing');
select is(pg_temp.as_user(:'buyer', format($$select treasury.checkout_failed(%L, 'payments_unavailable')$$, :'tix'::jsonb ->> 'checkout_id')) ->> 'status',
          'open', 'an open checkout does not fail');

select is(pg_temp.receive('evt_cs_tix_expired', 'checkout.session.expired', jsonb_build_object(
            'id', 'cs_test_tix', 'object', 'checkout.session', 'status', 'expired', 'mode', 'payment',
            'metadata', :'tix'::jsonb #> '{session_params,metadata}')) - 'event_id' - 'type' - 'received',
          jsonb_build_object('status', 'applied', 'note', 'seats_released', 'checkout_id', :'tix'::jsonb ->> 'checkout_id'),
          'checkout.session.expired releases the seats');
select is((select concierto_private.held_seats(:'tier')), 0::bigint, 'nothing is held any more');
select is((select status from treasury.checkouts where id = (:'tix'::jsonb ->> 'checkout_id')::uuid), 'expired', 'the checkout is expired');
select is(pg_temp.receive('evt_cs_tix_expired_2', 'checkout.session.expired', jsonb_build_object(
            'id', 'cs_test_tix', 'object', 'checkout.session', 'status', 'expired', 'metadata', '{}'::jsonb)) ->> 'status',
          'ignored', 'a second expiry (found by the session id) changes nothing');
select is(pg_temp.receive('evt_cs_unknown_expired', 'checkout.session.expired', jsonb_build_object(
            'id', 'cs_test_other', 'object', 'checkout.session', 'status', 'expired', 'metadata', '{}'::jsonb)) ->> 'status',
          'ignored', 'the expiry of a session that is no checkout of ours is ignored');

-- A failed session creation releases the seats.
select pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'tier', 'quantity', 5))) as full_house \gset
select is((select concierto_private.held_seats(:'tier')), 5::bigint, 'all five seats held');
select is(pg_temp.as_user(:'buyer', format($$select treasury.checkout_failed(%L, 'payments_unavailable')$$, :'full_house'::jsonb ->> 'checkout_id')) - 'checkout_id' - 'expires_at' - 'idempotency_key',
          '{"status": "failed", "kind": "ticket", "mode": "payment", "amount_minor": 12500, "currency": "EUR", "failure_code": "payments_unavailable"}',
          'checkout_failed fails the checkout with the code');
select is((select concierto_private.held_seats(:'tier')), 0::bigint, 'and releases its seats');

-- Completed: the checkout is completed and the payment recorded as before.
select pg_temp.begin(:'friend', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'tier', 'quantity', 1))) as one \gset
select is(pg_temp.receive('evt_cs_one', 'checkout.session.completed', jsonb_build_object(
            'id', 'cs_test_one', 'object', 'checkout.session', 'mode', 'payment', 'payment_status', 'paid', 'status', 'complete',
            'payment_intent', 'pi_test_one', 'amount_total', 2500, 'currency', 'eur',
            'metadata', :'one'::jsonb #> '{session_params,metadata}')) ->> 'status',
          'applied', 'the completed session''s payment is recorded');
select is((select status || ' ' || session_id from treasury.checkouts where id = (:'one'::jsonb ->> 'checkout_id')::uuid),
          'completed cs_test_one', 'the checkout is completed, with its session');
select is((select count(*) from public.event_tickets where order_id = (select order_id from treasury.checkouts where id = (:'one'::jsonb ->> 'checkout_id')::uuid)),
          1::bigint, 'and the ticket issued');

-- Tips ------------------------------------------------------------------------------------------

select is((pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'tip', 'artist_id', :'headliner', 'amount_minor', 1234, 'currency', 'eur'))) -> 'session_params')
            - 'client_reference_id' - 'expires_at' - 'metadata' - 'payment_intent_data',
          '{"mode": "payment", "line_items": [{"price_data": {"currency": "eur", "unit_amount": 1234, "product_data": {"name": "Tip for the headliner"}}, "quantity": 1}]}',
          'a tip is the amount the fan chose, in the currency they chose');
select is((pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'tip', 'artist_id', :'headliner', 'amount_minor', 1234, 'currency', 'EUR'))) #> '{session_params,metadata}') - 'checkout_id',
          jsonb_build_object('buyer_id', :'buyer', 'product_id', :'tip_jar', 'artist_id', :'headliner', 'quantity', '1'),
          'its metadata names the artist''s tip product and the artist');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'tip', 'artist_id', :'headliner', 'amount_minor', 99, 'currency', 'EUR'))),
          '22023 amount_out_of_bounds', 'a tip below the minimum is amount_out_of_bounds');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'tip', 'artist_id', :'headliner', 'amount_minor', 50001, 'currency', 'EUR'))),
          '22023 amount_out_of_bounds', 'and above the maximum');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'tip', 'artist_id', :'headliner', 'amount_minor', 500, 'currency', 'JPY'))),
          '22023 unsupported_currency', 'a currency without bounds is unsupported_currency');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'tip', 'artist_id', :'headliner', 'amount_minor', '500', 'currency', 'EUR'))),
          '22023 invalid_item', 'an amount given as a string is invalid_item');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'tip', 'artist_id', :'stranger', 'amount_minor', 500, 'currency', 'EUR'))),
          'P0002 unknown_item', 'an artist without a tip product is unknown_item');

-- Drops and merch -------------------------------------------------------------------------------

select is(pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 3))) - 'checkout_id' - 'expires_at' - 'idempotency_key' - 'session_params',
          '{"status": "creating", "kind": "drop", "mode": "payment", "amount_minor": 9000, "currency": "EUR"}',
          'three drops at the product''s price');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'merch', 'product_id', :'vinyl', 'quantity', 1))),
          'P0002 unknown_item', 'a drop is no merch item');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'merch', 'product_id', :'shirt', 'quantity', 1))),
          '55000 not_for_sale', 'an inactive product is not_for_sale');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl'))),
          '22023 invalid_item', 'a drop needs a quantity');

-- Memberships and plans ------------------------------------------------------------------------

select pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'membership', 'artist_id', :'headliner'))) as club_co \gset
select is(:'club_co'::jsonb #> '{session_params,line_items}',
          '[{"price_data": {"currency": "eur", "unit_amount": 500, "product_data": {"name": "Headliner fan club"}, "recurring": {"interval": "month"}}, "quantity": 1}]',
          'a membership is the artist''s monthly price, recurring monthly');
select is(:'club_co'::jsonb #> '{session_params,subscription_data,metadata}',
          jsonb_build_object('buyer_id', :'buyer', 'product_id', :'club', 'artist_id', :'headliner', 'kind', 'membership',
                             'checkout_id', :'club_co'::jsonb ->> 'checkout_id'),
          'its subscription carries the membership metadata');
select is(:'club_co'::jsonb ->> 'mode', 'subscription', 'in subscription mode');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'membership', 'artist_id', :'support'))),
          '55000 not_for_sale', 'an inactive membership is not_for_sale');
select is(pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'plan', 'plan', 'pro'))) #> '{session_params,line_items}',
          '[{"price_data": {"currency": "eur", "unit_amount": 1499, "product_data": {"name": "Coliseum Pro plan"}, "recurring": {"interval": "month"}}, "quantity": 1}]',
          'the pro plan is priced from coliseum.plan_prices, in the default currency');
select is((pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'plan', 'plan', 'basic', 'currency', 'usd'))) #> '{session_params,subscription_data,metadata}') - 'checkout_id',
          jsonb_build_object('buyer_id', :'buyer', 'kind', 'plan', 'plan', 'basic'),
          'a plan''s subscription names the plan');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'plan', 'plan', 'gold'))),
          'P0002 unknown_item', 'an unknown plan is unknown_item');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'plan', 'plan', 'pro', 'currency', 'NGN'))),
          '22023 unsupported_currency', 'a plan in a currency it is not sold in is unsupported_currency');

-- Shapes ----------------------------------------------------------------------------------------

select is(pg_temp.refusal(:'buyer', '[]'), '22023 invalid_item', 'no item is invalid_item');
select is(pg_temp.refusal(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 1),
                                                      jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 1))),
          '22023 too_many_items', 'two items are too_many_items: a checkout holds one');
select is(pg_temp.refusal(:'buyer', '[{"kind": "voucher"}]'), '22023 invalid_item', 'an unknown kind is invalid_item');
select is(pg_temp.refusal(null, jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 1))),
          '42501 sign_in_required', 'without a user: sign_in_required');

-- Retried requests ------------------------------------------------------------------------------

select pg_temp.begin(:'friend', jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 1)), 'req-1') as first_try \gset
select is(pg_temp.begin(:'friend', jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 1)), 'req-1'),
          :'first_try'::jsonb, 'the same client_request_id and item return the same checkout, to create the same session');
select is((select count(*) from treasury.checkouts where buyer_id = :'friend' and client_request_id = 'req-1'), 1::bigint,
          'and no second checkout');
select throws_ok(pg_temp.call_as(:'friend', format('select treasury.begin_checkout(%L::jsonb, %L)',
                   jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 2)), 'req-1')),
                 '22023', 'client_request_id req-1 was used for another item', 'another item under the same key is refused');
select pg_temp.as_user(:'friend', format($$select treasury.checkout_failed(%L, 'payment_rejected')$$, :'first_try'::jsonb ->> 'checkout_id')) as failed_try \gset
select throws_ok(pg_temp.call_as(:'friend', format('select treasury.begin_checkout(%L::jsonb, %L)',
                   jsonb_build_array(jsonb_build_object('kind', 'drop', 'product_id', :'vinyl', 'quantity', 1)), 'req-1')),
                 '55000', format('checkout %s is failed', :'first_try'::jsonb ->> 'checkout_id'),
                 'a failed checkout''s key is closed: a new attempt needs a new key');

-- A session's expiry is never later than the one begin_checkout chose: the buyer may call
-- checkout_opened themselves, and the seats are held until then.
select pg_temp.begin(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'ticket', 'tier_id', :'tier', 'quantity', 1))) as late \gset
select is(pg_temp.as_user(:'buyer', format($$select treasury.checkout_opened(%L, '{"id": "cs_test_forever", "url": "https://x", "expires_at": 253402300799}')$$,
                                           :'late'::jsonb ->> 'checkout_id')) #>> '{session,expires_at}',
          :'late'::jsonb ->> 'expires_at', 'a later expires_at is cut to the checkout''s own');
select is((select o.expires_at from concierto.orders as o join treasury.checkouts as c on c.order_id = o.id
           where c.id = (:'late'::jsonb ->> 'checkout_id')::uuid),
          to_timestamp((:'late'::jsonb ->> 'expires_at')::bigint), 'and so are the seats it holds');

-- Row level security ----------------------------------------------------------------------------

select pg_temp.act_as(:'friend');
select is((select count(*) from treasury.checkouts where buyer_id <> :'friend'), 0::bigint,
          'a buyer reads no one else''s checkouts');
select ok((select count(*) from treasury.checkouts) >= 2, 'but reads their own');
select throws_ok($$insert into treasury.checkouts (buyer_id, kind, mode, item, product_id, quantity, unit_amount_minor, amount_minor, currency, session_params, expires_at)
                   values (auth.uid(), 'drop', 'payment', '{}', null, 1, 1, 1, 'EUR', '{}', now())$$,
                 '42501', null, 'nobody writes checkouts directly');
reset role;

select * from finish();
rollback;
