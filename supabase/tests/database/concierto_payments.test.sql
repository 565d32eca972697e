-- Concierto payments: a Checkout Session carrying an order's metadata, received by
-- treasury.receive_stripe_event, issues the order's tickets and their Passport events in the
-- same call (the payment's transaction); redeliveries and the PaymentIntent event issue
-- nothing more; a late payment is honoured while seats are free, else flagged for refund; a
-- refund voids tickets (floor(refunded x seats / paid), valid ones, the buyer's own first,
-- newest first; an admitted ticket is never voided) and their seats go back on sale.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(45);
\ir concierto_helpers.psql

-- A paid checkout issues the tickets ------------------------------------------------------------

select pg_temp.reserve(:'buyer', :'tier', 2) as r1 \gset
select (:'r1'::jsonb ->> 'order_id') as o1 \gset
select is(
  pg_temp.pay(:'r1', 'pi_pgtap_conc_1') - 'event_id' - 'type' - 'received',
  '{"status": "applied", "payment_id": "pi_pgtap_conc_1"}'::jsonb,
  'Treasury records the payment of the Checkout Session'
);
select results_eq(
  format($$select seat::int, owner_id, event_id, tier_id, state, version from public.event_tickets
           where order_id = %L order by seat$$, :'o1'),
  format($$values (1, %1$L::uuid, %2$L::uuid, %3$L::uuid, 'valid', 1), (2, %1$L::uuid, %2$L::uuid, %3$L::uuid, 'valid', 1)$$,
         :'buyer', :'event', :'tier'),
  'and in the same call two tickets exist: one per seat, owned by the buyer, valid, version 1'
);
select results_eq(
  format($$select state, payment_id, paid_at from concierto.orders where id = %L$$, :'o1'),
  $$values ('paid', 'pi_pgtap_conc_1', to_timestamp(extract(epoch from now())::bigint - 60))$$,
  'the order is paid by that payment'
);
select is((select seats_sold from concierto.ticket_tiers where id = :'tier'), 2, 'the tier has sold two seats');
select results_eq(
  format($$select kind, artist_id, payload, source, client_event_id from public.passport_entries
           where user_id = %L and kind = 'concierto.ticket_purchased'$$, :'buyer'),
  format($$values ('concierto.ticket_purchased', %L::uuid,
                   jsonb_build_object('event_id', %L::text, 'tier_id', %L::text, 'quantity', 2, 'amount_minor', 5000,
                                      'currency', 'EUR', 'city', 'Lagos', 'country', 'NG'),
                   'concierto', 'concierto:order:' || %L || ':purchased')$$, :'headliner', :'event', :'tier', :'o1'),
  'Passport: one ticket_purchased for the order, for the headliner, with the venue''s place'
);
select results_eq(
  format($$select artist_id, payload, client_event_id from public.passport_entries
           where user_id = %L and kind = 'concierto.ticket_issued' order by payload ->> 'ticket_id'$$, :'buyer'),
  format($$select null::uuid, jsonb_build_object('event_id', %L::text, 'ticket_id', k.id::text), 'concierto:ticket:' || k.id || ':issued'
           from public.event_tickets as k where k.order_id = %L order by k.id::text$$, :'event', :'o1'),
  'and one ticket_issued per ticket'
);
select is(
  (select artist_id from public.passport_entries where user_id = :'buyer' and kind = 'treasury.money_spent'),
  null,
  'the ticket is a host product: Treasury''s money_spent names no artist, so the sale counts once for DNA'
);

select is(pg_temp.pay(:'r1', 'pi_pgtap_conc_1') ->> 'status', 'duplicate', 'a redelivery is a duplicate');
select is(pg_temp.pay_intent(:'r1', 'pi_pgtap_conc_1') ->> 'note', 'already_recorded',
          'the PaymentIntent event of the same payment only completes it');
select is((select count(*)::int from public.event_tickets where order_id = :'o1'), 2, 'no ticket is issued twice');
select is((select count(*)::int from public.passport_entries where user_id = :'buyer' and source = 'concierto'), 3,
          'nor logged twice');

-- Whichever event comes first issues them: here the PaymentIntent.
select pg_temp.reserve(:'friend', :'tier', 1) as r2 \gset
select is(pg_temp.pay_intent(:'r2', 'pi_pgtap_conc_2') ->> 'status', 'applied', 'a PaymentIntent event can record the payment');
select is((select count(*)::int from public.event_tickets where order_id = (:'r2'::jsonb ->> 'order_id')::uuid), 1,
          'and issue the tickets');
select is(pg_temp.pay(:'r2', 'pi_pgtap_conc_2') ->> 'note', 'already_recorded', 'the session event after it adds nothing');
select is((select count(*)::int from public.event_tickets where order_id = (:'r2'::jsonb ->> 'order_id')::uuid), 1,
          'still one ticket');

-- Late payments -----------------------------------------------------------------------------------

-- Two seats left. An expired order whose seats are still free is honoured.
select pg_temp.reserve(:'stranger', :'tier', 1) as r3 \gset
update concierto.orders set expires_at = now() - interval '1 minute' where id = (:'r3'::jsonb ->> 'order_id')::uuid;
select concierto_private.expire_orders() >= 1 as expired \gset
select is(pg_temp.pay(:'r3', 'pi_pgtap_conc_3') ->> 'status', 'applied', 'a payment for an expired order is recorded');
select results_eq(
  format($$select o.state, (select count(*)::int from public.event_tickets as k where k.order_id = o.id)
           from concierto.orders as o where o.id = %L$$, :'r3'::jsonb ->> 'order_id'),
  $$values ('paid', 1)$$,
  'and its tickets issued, since its seats were still free'
);

-- One seat left: an expired order of one whose seat was sold meanwhile is flagged for refund.
select pg_temp.reserve(:'stranger', :'tier', 1) as r4 \gset
update concierto.orders set expires_at = now() - interval '1 minute' where id = (:'r4'::jsonb ->> 'order_id')::uuid;
select pg_temp.buy(:'friend', :'tier', 1, 'pi_pgtap_conc_5') as o5 \gset
select is(pg_temp.pay(:'r4', 'pi_pgtap_conc_4') ->> 'status', 'applied', 'the late payment is still recorded by Treasury');
select results_eq(
  format($$select o.state, o.payment_id, (select count(*)::int from public.event_tickets as k where k.order_id = o.id)
           from concierto.orders as o where o.id = %L$$, :'r4'::jsonb ->> 'order_id'),
  $$values ('refund_due', 'pi_pgtap_conc_4', 0)$$,
  'but the order is refund_due and no ticket is issued: the tier is full'
);
select is((select seats_sold from concierto.ticket_tiers where id = :'tier'), 5, 'five of five sold, never six');
select results_eq(
  $$select order_id::text, buyer_id, amount_minor, currency::text, reason like 'sold_out: order % expired at %', resolved_at
    from concierto.refunds_due where payment_id = 'pi_pgtap_conc_4'$$,
  format($$values (%L, %L::uuid, 2500::bigint, 'EUR', true, null::timestamptz)$$, :'r4'::jsonb ->> 'order_id', :'stranger'),
  'the payment is listed in refunds_due for an operator'
);
select is(pg_temp.refund('pi_pgtap_conc_4', 2500, 2500) ->> 'status', 'applied', 'the operator refunds it in Stripe');
select results_eq(
  $$select r.refunded_minor, r.resolved_at is not null, o.state from concierto.refunds_due as r
    join concierto.orders as o on o.id = r.order_id where r.payment_id = 'pi_pgtap_conc_4'$$,
  $$values (2500::bigint, true, 'refunded')$$,
  'the refund resolves it'
);

-- Payments that name an order they cannot pay.
select pg_temp.reserve(:'buyer', :'other_tier', 1) as r6 \gset
select pg_temp.pay(jsonb_set(:'r6', '{metadata,buyer_id}', to_jsonb(:'stranger'::text)), 'pi_pgtap_conc_6') ->> 'status'
  as paid6 \gset
select results_eq(
  $$select order_id::text, reason from concierto.refunds_due where payment_id = 'pi_pgtap_conc_6'$$,
  format($$values (%L, format('buyer %%s is not the buyer of order %%s', %L, %L))$$,
         :'r6'::jsonb ->> 'order_id', :'stranger', :'r6'::jsonb ->> 'order_id'),
  'someone else''s order: flagged, not issued'
);
select is((select state from concierto.orders where id = (:'r6'::jsonb ->> 'order_id')::uuid), 'reserved',
          'the order itself is untouched');
select pg_temp.pay(jsonb_set(:'r6', '{metadata,order_id}', to_jsonb(gen_random_uuid()::text)), 'pi_pgtap_conc_7') ->> 'status'
  as paid7 \gset
select ok((select reason like 'metadata.order_id % is not an order' from concierto.refunds_due where payment_id = 'pi_pgtap_conc_7'),
          'an unknown order: flagged');
select pg_temp.pay(:'r1', 'pi_pgtap_conc_8') ->> 'status' as paid8 \gset
select is((select reason from concierto.refunds_due where payment_id = 'pi_pgtap_conc_8'),
          format('order %s was paid by pi_pgtap_conc_1 already', :'o1'), 'a second payment of a paid order: flagged');
select is((select count(*)::int from public.event_tickets where order_id = :'o1'), 2, 'and it issues nothing');
select pg_temp.pay(:'r6'::jsonb - 'metadata' || jsonb_build_object('metadata', (:'r6'::jsonb -> 'metadata') - 'order_id'),
                   'pi_pgtap_conc_9') ->> 'status' as paid9 \gset
select is(
  (select count(*)::int from concierto.refunds_due where payment_id = 'pi_pgtap_conc_9')
    + (select count(*)::int from public.event_tickets as k join concierto.orders as o on o.id = k.order_id
       where o.payment_id = 'pi_pgtap_conc_9'),
  0,
  'a payment without order_id is no Concierto order: Treasury alone records it'
);

-- Refunds void tickets ----------------------------------------------------------------------------

select concierto.create_tier(:'event', 'Refundable', 2500, 10) as rtier \gset
select pg_temp.buy(:'buyer', :'rtier', 4, 'pi_pgtap_conc_r') as ro \gset
select pg_temp.ticket(:'ro', 1) as s1, pg_temp.ticket(:'ro', 2) as s2, pg_temp.ticket(:'ro', 3) as s3,
       pg_temp.ticket(:'ro', 4) as s4 \gset
-- Seat 4 given to a friend, seat 3 already admitted at the door.
select pg_temp.as_user(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'s4', :'friend')) ->> 'version' as v4 \gset
select pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North')$$, :'s3', :'event')) ->> 'status'
  as admitted \gset

create function pg_temp.states(order_id uuid)
returns text[]
language sql
as $$
  select array_agg(k.state order by k.seat) from public.event_tickets as k where k.order_id = states.order_id
$$;

select is(pg_temp.refund('pi_pgtap_conc_r', 10000, 2500) ->> 'status', 'applied', 'a refund of one ticket''s price');
select is(pg_temp.states(:'ro'), array['valid', 'void', 'redeemed', 'valid'],
          'voids one ticket: the newest the buyer still holds (seat 2), not the friend''s, not the admitted one');
select is((select seats_sold from concierto.ticket_tiers where id = :'rtier'), 3, 'its seat goes back on sale');
select is(pg_temp.refund('pi_pgtap_conc_r', 10000, 4999) ->> 'status', 'applied', 'refunds of less than a ticket''s price');
select is(pg_temp.states(:'ro'), array['valid', 'void', 'redeemed', 'valid'], 'void nothing more');
select is(pg_temp.refund('pi_pgtap_conc_r', 10000, 5000) ->> 'status', 'applied', 'a second ticket''s price in all');
select is(pg_temp.states(:'ro'), array['void', 'void', 'redeemed', 'valid'], 'voids a second ticket');
select is(pg_temp.refund('pi_pgtap_conc_r', 10000, 10000) ->> 'status', 'applied', 'the rest');
select is(pg_temp.states(:'ro'), array['void', 'void', 'redeemed', 'void'],
          'voids the transferred ticket too, never the admitted one');
select results_eq(
  format($$select state, refunded_minor, refund_unvoided from concierto.orders where id = %L$$, :'ro'),
  $$values ('refunded', 10000::bigint, 1)$$,
  'the order is refunded; one refunded seat had been admitted already and is counted as such'
);
select results_eq(
  format($$select voided_at is not null, void_reason from public.event_tickets where id = %L$$, :'s1'),
  $$values (true, 'refund')$$,
  'a voided ticket says why and when'
);
select is((select seats_sold from concierto.ticket_tiers where id = :'rtier'), 1, 'only the admitted seat stays sold');

-- A refund that arrives before its payment is applied right after the tickets are issued.
select pg_temp.reserve(:'buyer', :'rtier', 2) as rd \gset
select is(pg_temp.refund('pi_pgtap_conc_d', 5000, 5000) ->> 'status', 'deferred', 'a refund of an unknown payment waits');
select is(pg_temp.pay(:'rd', 'pi_pgtap_conc_d') -> 'deferred_events' -> 0 ->> 'status', 'applied',
          'the payment applies it in the same transaction');
select is(pg_temp.states((:'rd'::jsonb ->> 'order_id')::uuid), array['void', 'void'], 'after issuing the tickets it voids');

select is_empty('select * from treasury.check_invariants()', 'the ledger''s invariants hold throughout');

select * from finish();
rollback;
