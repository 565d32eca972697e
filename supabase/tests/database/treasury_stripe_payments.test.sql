-- Treasury: payments through treasury.receive_stripe_event. A Checkout Session records the
-- payment, its split, its ledger transaction and its Passport events; a redelivery is a
-- duplicate; the PaymentIntent event of the same payment only completes it (charge, fee);
-- bad metadata is recorded as failed (and retried once fixed); other types are ignored;
-- malformed events raise 22023.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(73);
\ir treasury_helpers.psql

select pg_temp.balance(null, 'stripe_balance') as stripe_before,
       pg_temp.balance(null, 'platform_revenue') as revenue_before,
       pg_temp.balance(null, 'processing_fees') as fees_before \gset

-- A Checkout Session: the payment ----------------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_pay_cs', 'checkout.session.completed', 1763800000,
                  pg_temp.session('pi_pgtap_pay', 4501, :'meta')),
  jsonb_build_object('received', true, 'status', 'applied', 'event_id', 'evt_pgtap_pay_cs',
                     'type', 'checkout.session.completed', 'payment_id', 'pi_pgtap_pay'),
  'a paid Checkout Session is applied and names its payment'
);

select results_eq(
  $$select checkout_session_id, charge_id, product_type, buyer_id, artist_id, host_id, quantity, amount_minor,
           currency::text, fee_minor, refunded_minor, party_roles, shares_bp, paid_at, stripe_event_id
    from treasury.payments where id = 'pi_pgtap_pay'$$,
  format($$values ('cs_pgtap_pay', null::text, 'ticket', %L::uuid, %L::uuid, %L::uuid, 1, 4501::bigint, 'EUR',
                   null::bigint, 0::bigint, '{artist,host,platform}'::text[], '{7000,2000,1000}'::int[],
                   to_timestamp(1763800000), 'evt_pgtap_pay_cs')$$, :'buyer', :'artist', :'host'),
  'the payment: buyer, the product''s artist and host, amount, currency in capitals, the shares it is split by'
);
select is(
  (select party_ids from treasury.payments where id = 'pi_pgtap_pay'),
  array[:'artist', :'host', null]::uuid[],
  'the parties are snapshotted in position order, the platform as null'
);

-- 4501 x 70% = 3150.7, x 20% = 900.2, x 10% = 450.1: the leftover unit goes to the artist.
select results_eq(
  $$select party_index::int, role, amount_minor, reference from public.treasury_splits
    where payment_id = 'pi_pgtap_pay' order by party_index$$,
  $$values (1, 'artist', 3151::bigint, 'pi_pgtap_pay'), (2, 'host', 900::bigint, 'pi_pgtap_pay'),
           (3, 'platform', 450::bigint, 'pi_pgtap_pay')$$,
  'the realised split: largest remainder, summing to the amount'
);

select results_eq(
  $$select a.purpose, a.owner_id is null, l.amount
    from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
    where l.kind = 'payment' and l.reference = 'pi_pgtap_pay' order by l.id$$,
  $$values ('stripe_balance', true, 4501::bigint), ('payable', false, -3151::bigint), ('payable', false, -900::bigint),
           ('platform_revenue', true, -450::bigint)$$,
  'the ledger: Dr Stripe balance, Cr each payee''s payable and the platform''s revenue'
);
select is(
  (select t.stripe_event_id from treasury.ledger_transactions as t where t.kind = 'payment' and t.reference = 'pi_pgtap_pay'),
  'evt_pgtap_pay_cs',
  'the ledger transaction names the event it came from'
);
select is(pg_temp.balance(:'artist', 'payable'), 3151::bigint, 'the artist is owed 3151');
select is(pg_temp.balance(:'host', 'payable'), 900::bigint, 'the host is owed 900');
select is(pg_temp.balance(null, 'platform_revenue') - :revenue_before, 450::bigint, 'the platform earned 450');
select is(pg_temp.balance(null, 'stripe_balance') - :stripe_before, 4501::bigint, 'the Stripe balance grew by 4501');

select results_eq(
  format($$select user_id, kind, artist_id, payload, occurred_at, source from public.passport_entries
           where client_event_id like 'stripe:pi_pgtap_pay:%%' order by kind, user_id = %L$$, :'artist'),
  format($$values
    (%1$L::uuid, 'treasury.money_earned', null::uuid,
     '{"payment_id": "pi_pgtap_pay", "amount_minor": 900, "currency": "EUR", "role": "host"}'::jsonb,
     to_timestamp(1763800000), 'treasury'),
    (%2$L::uuid, 'treasury.money_earned', null::uuid,
     '{"payment_id": "pi_pgtap_pay", "amount_minor": 3151, "currency": "EUR", "role": "artist"}'::jsonb,
     to_timestamp(1763800000), 'treasury'),
    (%3$L::uuid, 'treasury.money_spent', %2$L::uuid,
     '{"payment_id": "pi_pgtap_pay", "amount_minor": 4501, "currency": "EUR", "product_type": "ticket"}'::jsonb,
     to_timestamp(1763800000), 'treasury')$$, :'host', :'artist', :'buyer'),
  'Passport: money_spent for the buyer (with the product''s artist), money_earned for each payee, none for the platform'
);

select results_eq(
  $$select type, status, note, payment_intent_id, charge_id, stripe_created, livemode, applied_at is not null, attempts
    from treasury.stripe_events where event_id = 'evt_pgtap_pay_cs'$$,
  $$values ('checkout.session.completed', 'applied', null::text, 'pi_pgtap_pay', null::text, to_timestamp(1763800000),
            false, true, 1)$$,
  'the event is stored as applied, with the PaymentIntent it concerns'
);
select is(
  (select payload from treasury.stripe_events where event_id = 'evt_pgtap_pay_cs'),
  pg_temp.event('evt_pgtap_pay_cs', 'checkout.session.completed', 1763800000, pg_temp.session('pi_pgtap_pay', 4501, :'meta')),
  'the payload is the event as received'
);

-- Redelivery ----------------------------------------------------------------------------------

select count(*) as ledger_rows from public.treasury_ledger \gset
select count(*) as passport_rows from public.passport_entries \gset
select is(
  pg_temp.receive('evt_pgtap_pay_cs', 'checkout.session.completed', 1763800000,
                  pg_temp.session('pi_pgtap_pay', 4501, :'meta')),
  '{"received": true, "status": "duplicate", "event_id": "evt_pgtap_pay_cs", "recorded_status": "applied"}'::jsonb,
  'the same event id again is a duplicate, answered with what became of the first delivery'
);
select is(
  pg_temp.receive('evt_pgtap_pay_cs', 'checkout.session.completed', 1763800000,
                  pg_temp.session('pi_pgtap_pay', 99999, '{}')) ->> 'status',
  'duplicate',
  'a redelivery is recognised by its id alone, whatever its body'
);
select is((select count(*) from public.treasury_ledger), :ledger_rows::bigint, 'duplicates post nothing');
select is((select count(*) from public.passport_entries), :passport_rows::bigint, 'duplicates log nothing');
select is((select count(*) from treasury.payments where id = 'pi_pgtap_pay'), 1::bigint, 'one payment');

-- The PaymentIntent event of the same payment ------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_pay_pi', 'payment_intent.succeeded', 1763800001,
                  pg_temp.intent('pi_pgtap_pay', 4501, :'meta',
                                 '{"id": "ch_pgtap_pay", "object": "charge", "balance_transaction": {"id": "txn_1", "fee": 161, "currency": "eur"}}')),
  jsonb_build_object('received', true, 'status', 'applied', 'note', 'already_recorded', 'event_id', 'evt_pgtap_pay_pi',
                     'type', 'payment_intent.succeeded', 'payment_id', 'pi_pgtap_pay'),
  'payment_intent.succeeded of a recorded payment is applied as already_recorded'
);
select is((select count(*) from treasury.ledger_transactions where kind = 'payment' and reference = 'pi_pgtap_pay'),
          1::bigint, 'the payment is posted once');
select is((select count(*) from public.treasury_splits where payment_id = 'pi_pgtap_pay'), 3::bigint, 'and split once');
select is((select count(*) from public.passport_entries where client_event_id = 'stripe:pi_pgtap_pay:spent'), 1::bigint,
          'and logged once');
select results_eq(
  $$select charge_id, fee_minor from treasury.payments where id = 'pi_pgtap_pay'$$,
  $$values ('ch_pgtap_pay', 161::bigint)$$,
  'the second event adds what it knows: the charge and the fee of its expanded balance transaction'
);
select results_eq(
  $$select a.purpose, l.amount from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
    where l.kind = 'processing_fee' and l.reference = 'pi_pgtap_pay' order by l.id$$,
  $$values ('processing_fees', 161::bigint), ('stripe_balance', -161::bigint)$$,
  'the fee: Dr processing fees, Cr Stripe balance'
);
select is(pg_temp.balance(null, 'processing_fees') - :fees_before, 161::bigint, 'the platform paid 161 in fees');
select is(
  pg_temp.receive('evt_pgtap_pay_pi2', 'payment_intent.succeeded', 1763800002,
                  pg_temp.intent('pi_pgtap_pay', 4501, '{}',
                                 '{"id": "ch_pgtap_pay", "balance_transaction": {"fee": 999, "currency": "eur"}}')) ->> 'note',
  'already_recorded',
  'a later event never changes a recorded fee'
);
select is((select count(*) from treasury.ledger_transactions where reference = 'pi_pgtap_pay'), 2::bigint,
          'payment and fee, nothing else');

-- PaymentIntent first, then the session ------------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_pi_first', 'payment_intent.succeeded', 1763800010,
                  pg_temp.intent('pi_pgtap_pifirst', 2500, :'meta')) ->> 'status',
  'applied',
  'a PaymentIntent with the metadata records the payment on its own'
);
select results_eq(
  $$select checkout_session_id, charge_id, fee_minor from treasury.payments where id = 'pi_pgtap_pifirst'$$,
  $$values (null::text, 'ch_pgtap_pifirst', null::bigint)$$,
  'with its charge, no session and no fee (the charge was not expanded)'
);
select is(
  pg_temp.receive('evt_pgtap_pi_first_cs', 'checkout.session.completed', 1763800011,
                  pg_temp.session('pi_pgtap_pifirst', 2500, :'meta')) ->> 'note',
  'already_recorded',
  'the session that follows is already_recorded'
);
select is((select checkout_session_id from treasury.payments where id = 'pi_pgtap_pifirst'), 'cs_pgtap_pifirst',
          'and adds its session id');
select is((select count(*) from treasury.ledger_transactions where reference = 'pi_pgtap_pifirst'), 1::bigint,
          'one ledger transaction for the payment');

-- Metadata: failed, answered, retried -----------------------------------------------------------

-- A PaymentIntent with no metadata at all (a subscription invoice's payment, a payment made in the
-- dashboard) is not the app's: ignored, not failed, so it does not fill the operators' problems.
select is(
  pg_temp.receive('evt_pgtap_meta_none', 'payment_intent.succeeded', 1763800020,
                  pg_temp.intent('pi_pgtap_meta_none', 1499, '{}')) ->> 'status',
  'ignored',
  'a PaymentIntent without metadata is ignored'
);
select is((select count(*) from treasury.payments where id = 'pi_pgtap_meta_none'), 0::bigint, 'and books nothing');

select is(
  pg_temp.receive('evt_pgtap_meta_1', 'checkout.session.completed', 1763800020,
                  pg_temp.session('pi_pgtap_meta_1', 1000, jsonb_build_object('buyer_id', :'buyer'))),
  jsonb_build_object('received', true, 'status', 'failed', 'note', 'metadata.product_id is required',
                     'event_id', 'evt_pgtap_meta_1', 'type', 'checkout.session.completed'),
  'missing product_id: failed with a note, answered (Stripe must not retry forever)'
);
select is(
  pg_temp.receive('evt_pgtap_meta_2', 'checkout.session.completed', 1763800020,
                  pg_temp.session('pi_pgtap_meta_2', 1000, jsonb_build_object('product_id', :'product', 'buyer_id', 'me'))) ->> 'note',
  'metadata.buyer_id must be a UUID',
  'a buyer_id that is no UUID fails'
);
select is(
  pg_temp.receive('evt_pgtap_meta_3', 'checkout.session.completed', 1763800020,
                  pg_temp.session('pi_pgtap_meta_3', 1000, :'meta'::jsonb || '{"quantity": "0"}')) ->> 'note',
  'metadata.quantity must be an integer >= 1',
  'quantity 0 fails'
);
select is(
  pg_temp.receive('evt_pgtap_meta_4', 'checkout.session.completed', 1763800020,
                  pg_temp.session('pi_pgtap_meta_4', 1000, :'meta'::jsonb || jsonb_build_object('artist_id', :'host'))) ->> 'note',
  format('metadata.artist_id %s is not the artist of product %s (%s)', :'host', :'product', :'artist'),
  'an artist_id that contradicts the product fails'
);
select is(
  pg_temp.receive('evt_pgtap_meta_5', 'checkout.session.completed', 1763800020,
                  pg_temp.session('pi_pgtap_meta_5', 1000,
                                  jsonb_build_object('product_id', '00000000-0000-4000-8000-00000000beef', 'buyer_id', :'buyer'))) ->> 'note',
  'metadata.product_id 00000000-0000-4000-8000-00000000beef is not a product',
  'an unknown product fails'
);
select is(
  (select array_agg(event_id order by event_id) from treasury.stripe_event_problems
   where event_id like 'evt_pgtap_meta_%' and status = 'failed'),
  '{evt_pgtap_meta_1,evt_pgtap_meta_2,evt_pgtap_meta_3,evt_pgtap_meta_4,evt_pgtap_meta_5}'::text[],
  'failed events are listed for admins'
);
select is((select count(*) from treasury.payments where id like 'pi_pgtap_meta_%'), 0::bigint, 'no payment from them');

insert into treasury.products (id, type, title, artist_id, price_minor, currency, split_rule_id)
values ('00000000-0000-4000-8000-00000000beef', 'merch', 'late product', :'artist', 1000, 'EUR', :'rule');
select is(
  treasury.retry_stripe_event('evt_pgtap_meta_5'),
  jsonb_build_object('received', true, 'status', 'applied', 'event_id', 'evt_pgtap_meta_5', 'type', 'checkout.session.completed',
                     'retried', true, 'payment_id', 'pi_pgtap_meta_5'),
  'once the product exists, the failed event is retried and applied'
);
select results_eq(
  $$select status, note, attempts, applied_at is not null from treasury.stripe_events where event_id = 'evt_pgtap_meta_5'$$,
  $$values ('applied', null::text, 2, true)$$,
  'the retry is recorded on the event'
);
select throws_ok($$select treasury.retry_stripe_event('evt_pgtap_meta_5')$$, '55000',
                 'Stripe event evt_pgtap_meta_5 is applied: only deferred or failed events are retried',
                 'an applied event is not retried');
select throws_ok($$select treasury.retry_stripe_event('evt_pgtap_nowhere')$$, 'P0002', 'Stripe event evt_pgtap_nowhere not found',
                 'an unknown event cannot be retried');

-- Bad amounts and currencies --------------------------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_zero', 'payment_intent.succeeded', 1763800030, pg_temp.intent('pi_pgtap_zero', 0, :'meta')) ->> 'note',
  'the amount paid must be an integer > 0 (minor units)',
  'a payment of 0 fails'
);
select is(
  pg_temp.receive('evt_pgtap_usd', 'payment_intent.succeeded', 1763800031,
                  pg_temp.intent('pi_pgtap_pay', 4501, :'meta') || '{"currency": "usd"}') ->> 'note',
  'payment pi_pgtap_pay is recorded in EUR, this event says USD',
  'an event of a recorded payment in another currency fails'
);

-- Stripe's clock a day ahead of ours: the payment is recorded, Passport gets our time.
select extract(epoch from now())::bigint + 86400 as tomorrow \gset
select is(
  pg_temp.receive('evt_pgtap_skew', 'payment_intent.succeeded', :tomorrow, pg_temp.intent('pi_pgtap_skew', 700, :'meta')) ->> 'status',
  'applied',
  'an event dated ahead of the database clock is applied'
);
select results_eq(
  format($$select p.paid_at = to_timestamp(%s), e.occurred_at = now()
           from treasury.payments as p join public.passport_entries as e on e.client_event_id = 'stripe:pi_pgtap_skew:spent'
           where p.id = 'pi_pgtap_skew'$$, :tomorrow),
  $$values (true, true)$$,
  'the payment keeps Stripe''s time; its Passport events are not dated in the future'
);

-- Ignored ------------------------------------------------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_sub', 'checkout.session.completed', 1763800040,
                  pg_temp.session('pi_pgtap_sub', 900, :'meta') || '{"mode": "subscription"}'),
  jsonb_build_object('received', true, 'status', 'ignored', 'note', 'no subscription: not a subscription of this app',
                     'event_id', 'evt_pgtap_sub', 'type', 'checkout.session.completed'),
  'a subscription checkout that names no subscription is ignored (docs/treasury-checkout.md)'
);
select is(
  pg_temp.receive('evt_pgtap_unpaid', 'checkout.session.completed', 1763800041,
                  pg_temp.session('pi_pgtap_unpaid', 900, :'meta') || '{"payment_status": "unpaid"}') ->> 'status',
  'ignored',
  'an unpaid (asynchronous) checkout is ignored until it is paid'
);
select is(
  pg_temp.receive('evt_pgtap_async', 'checkout.session.async_payment_succeeded', 1763800042,
                  pg_temp.session('pi_pgtap_unpaid', 900, :'meta')) ->> 'status',
  'applied',
  'checkout.session.async_payment_succeeded records it'
);
select is(
  pg_temp.receive('evt_pgtap_customer', 'customer.created', 1763800043, '{"id": "cus_1", "object": "customer"}'),
  jsonb_build_object('received', true, 'status', 'ignored', 'note', 'customer.created is not handled',
                     'event_id', 'evt_pgtap_customer', 'type', 'customer.created'),
  'an unhandled type is recorded as ignored'
);
select is(
  (select status from treasury.stripe_events where event_id = 'evt_pgtap_customer'),
  'ignored',
  'and stored'
);
select is(
  pg_temp.receive('evt_pgtap_payout', 'payout.paid', 1763800044, '{"id": "po_1", "object": "payout", "amount": 100, "currency": "eur"}') ->> 'status',
  (treasury_private.apply_payout_event(pg_temp.event('x', 'payout.paid', 1763800044,
     '{"id": "po_1", "object": "payout", "amount": 100, "currency": "eur"}')) ->> 'status'),
  'payout events go through treasury_private.apply_payout_event'
);

-- Malformed events: 22023 -----------------------------------------------------------------------------

select throws_ok($$select treasury.receive_stripe_event(null)$$, '22023', 'a Stripe event must be a JSON object',
                 'null is refused');
select throws_ok($$select treasury.receive_stripe_event('[]')$$, '22023', 'a Stripe event must be a JSON object',
                 'an array is refused');
select throws_ok($$select treasury.receive_stripe_event('{"type": "x", "created": 1, "data": {"object": {}}}')$$,
                 '22023', 'event.id must be a string of 1 to 255 characters', 'an event without an id is refused');
select throws_ok($$select treasury.receive_stripe_event('{"id": "evt_x", "created": 1, "data": {"object": {}}}')$$,
                 '22023', 'event.type must be a string of 1 to 255 characters', 'an event without a type is refused');
select throws_ok($$select treasury.receive_stripe_event('{"id": "evt_x", "type": "x", "created": 1, "livemode": "no", "data": {"object": {}}}')$$,
                 '22023', 'event.livemode must be true or false', 'livemode must be a boolean');
select throws_ok($$select treasury.receive_stripe_event('{"id": "evt_x", "type": "x", "created": 1, "data": {}}')$$,
                 '22023', 'event.data.object must be an object', 'an event without data.object is refused');
select is((select count(*) from treasury.stripe_events where event_id = 'evt_x'), 0::bigint, 'a refused event is not stored');

-- An event without a usable created is recorded and applied as created when received -----------------

select is(
  treasury.receive_stripe_event(pg_temp.event('evt_pgtap_nocreated', 'checkout.session.completed', 0,
                                              pg_temp.session('pi_pgtap_nocreated', 2500, :'meta')) - 'created') ->> 'status',
  'applied',
  'a payment event without created is applied'
);
select is(
  treasury.receive_stripe_event('{"id": "evt_pgtap_created_text", "type": "customer.created", "created": "yesterday", "data": {"object": {}}}') ->> 'status',
  'ignored',
  'an event whose created is not a number is recorded'
);
select results_eq(
  $$select event_id, stripe_created from treasury.stripe_events where event_id in ('evt_pgtap_nocreated', 'evt_pgtap_created_text') order by 1$$,
  $$values ('evt_pgtap_created_text', now()), ('evt_pgtap_nocreated', now())$$,
  'both are recorded as created when received'
);
select is((select paid_at from treasury.payments where id = 'pi_pgtap_nocreated'), now(), 'and the payment as paid then');

select treasury.receive_stripe_event(pg_temp.event('evt_pgtap_hash', 'customer.created', 1763800050, '{"id": "cus_2"}'),
                                     repeat('AB', 32)) ->> 'status' as hashed \gset
select results_eq(
  $$select event_id, body_sha256 from treasury.stripe_events where event_id in ('evt_pgtap_hash', 'evt_pgtap_customer') order by 1$$,
  $$values ('evt_pgtap_customer', null::text), ('evt_pgtap_hash', repeat('ab', 32))$$,
  'the hash of the body as signed is kept with the event (lower case) when the webhook passes it'
);

-- What is recorded stays as recorded -------------------------------------------------------------------

select throws_ok($$update treasury.stripe_events set payload = '{}' where event_id = 'evt_pgtap_pay_cs'$$, '42501',
                 'stripe_events keeps every event as received: UPDATE is refused', 'an event''s payload never changes');
select throws_ok($$delete from treasury.stripe_events where event_id = 'evt_pgtap_pay_cs'$$, '42501',
                 'stripe_events keeps every event as received: DELETE is refused', 'an event is never deleted');
select throws_ok($$update treasury.payments set amount_minor = 1 where id = 'pi_pgtap_pay'$$, '42501',
                 'payments are kept as recorded: UPDATE is refused', 'a payment''s amount never changes');
select throws_ok($$update treasury.payments set charge_id = 'ch_other' where id = 'pi_pgtap_pay'$$, '42501',
                 'payments are kept as recorded: UPDATE is refused', 'a known charge id is not replaced');
select throws_ok($$delete from treasury.payments where id = 'pi_pgtap_pay'$$, '42501',
                 'payments are kept as recorded: DELETE is refused', 'a payment is never deleted');

select is_empty($$select * from treasury.check_invariants()$$, 'the ledger invariants hold');

select * from finish();
rollback;
