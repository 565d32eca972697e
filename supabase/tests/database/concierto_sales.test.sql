-- Concierto sales: events and tiers (with their Treasury product and split rule), reservations
-- that never oversell a tier (checked one after another here; tests/tests/concierto_race.rs
-- races 50 buyers), the sale window, the Stripe metadata, and expired reservations going back
-- on sale.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(46);
\ir concierto_helpers.psql

-- Events ----------------------------------------------------------------------------------------

select results_eq(
  format($$select host_id, title, venue, city, country::text, currency::text, split_host_bp, split_artists_bp, split_platform_bp
           from concierto.events where id = %L$$, :'event'),
  format($$values (%L::uuid, 'pgTAP live', 'The Shrine', 'Lagos', 'NG', 'EUR', 2000, 7000, 1000)$$, :'host'),
  'create_event stores the host, venue, place, currency and split'
);
select results_eq(
  format($$select artist_id, position::int from concierto.event_artists where event_id = %L order by position$$, :'event'),
  format($$values (%L::uuid, 1), (%L::uuid, 2)$$, :'headliner', :'support'),
  'and the lineup in billing order, the headliner first'
);

create function pg_temp.new_event(split_host int, split_artists int, split_platform int, artists uuid[],
                                  country text default 'NG', doors interval default interval '1 hour')
returns text
language sql
as $$
  select format($f$select concierto.create_event(%L, 'x', 'v', 'Lagos', %L, now() + interval '1 day',
                    now() + interval '1 day' - %L::interval, 'EUR', %s, %s, %s, %L::uuid[])$f$,
                gen_random_uuid(), country, doors, split_host, split_artists, split_platform, artists)
$$;

select throws_ok(pg_temp.new_event(2000, 7000, 900, array[gen_random_uuid()]), '22023',
                 'the splits sum to 9900 basis points, not 10000', 'the split must sum to 10000 basis points');
select throws_ok(pg_temp.new_event(2000, 7000, 1000, '{}'), '22023',
                 'artist_ids must name 1 to 50 artists (the headliner first)', 'an event has a lineup');
select throws_ok(pg_temp.new_event(2000, 7000, 1000, array[:'support', :'support']::uuid[]), '22023',
                 'artist_ids must not name an artist twice', 'an artist plays once per event');
select throws_ok(pg_temp.new_event(2000, 7000, 1000, array[gen_random_uuid()], 'ng'), '22023',
                 'country must be an ISO 3166-1 alpha-2 code in capitals (NG)', 'the country is ISO alpha-2 in capitals');
select throws_ok(pg_temp.new_event(2000, 7000, 1000, array[gen_random_uuid()], 'NG', interval '-1 hour'), '22023',
                 'doors_at must not be after starts_at', 'doors open before the start');

-- Tiers: a Treasury product each, split by the event's settings -----------------------------------

select results_eq(
  format($$select t.name, t.price_minor, t.currency::text, t.capacity, t.seats_sold, p.type, p.host_id, p.artist_id,
                  p.price_minor, p.currency::text
           from concierto.ticket_tiers as t join treasury.products as p on p.id = t.product_id where t.id = %L$$, :'tier'),
  format($$values ('General', 2500::bigint, 'EUR', 5, 0, 'ticket', %L::uuid, null::uuid, 2500::bigint, 'EUR')$$, :'host'),
  'a tier is a ticket product of the host, at its price and the event''s currency'
);
select is(
  (select sale_ends_at from concierto.ticket_tiers where id = :'tier'),
  (select starts_at from concierto.events where id = :'event'),
  'sales end when the event starts unless told otherwise'
);
select results_eq(
  format($$select r.position::int, r.party_id, r.role, r.share_bp
           from concierto.ticket_tiers as t join treasury.products as p on p.id = t.product_id
           join treasury.split_rule_parties as r on r.rule_id = p.split_rule_id
           where t.id = %L order by r.position$$, :'tier'),
  format($$values (1, %L::uuid, 'host', 2000), (2, %L::uuid, 'artist', 3500), (3, %L::uuid, 'artist', 3500),
                  (4, null::uuid, 'platform', 1000)$$, :'host', :'headliner', :'support'),
  'its split rule: the host, each lineup artist an equal share of the artists'' part, the platform'
);

select concierto.create_event(gen_random_uuid(), 'Trio', 'The Shrine', 'Lagos', 'NG', now() + interval '1 day',
                              now() + interval '1 day' - interval '1 hour', 'EUR', 0, 7000, 3000,
                              array[:'headliner', :'support', gen_random_uuid()]::uuid[]) as trio \gset
select concierto.create_tier(:'trio', 'Floor', 1000, 10) as trio_tier \gset
select results_eq(
  format($$select r.role, r.share_bp from concierto.ticket_tiers as t join treasury.products as p on p.id = t.product_id
           join treasury.split_rule_parties as r on r.rule_id = p.split_rule_id where t.id = %L order by r.position$$, :'trio_tier'),
  $$values ('artist', 2334), ('artist', 2333), ('artist', 2333), ('platform', 3000)$$,
  'shares that do not divide evenly give the rest to the headliner; a zero share is no party'
);

select pg_temp.act_as(:'host');
select isnt(concierto.create_tier(:'event', 'VIP', 9000, 20), null, 'the host creates tiers of their event');
reset role;
select pg_temp.act_as(:'stranger');
select throws_ok(format($$select concierto.create_tier(%L, 'Back door', 100, 5)$$, :'event'),
                 '42501', format('only the host of event %s creates its tiers', :'event'), 'nobody else does');
reset role;
select throws_ok(format($$select concierto.create_tier(%L, 'x', 100, 5)$$, gen_random_uuid()), 'P0002', null,
                 'a tier of an unknown event');
select throws_ok(format($$select concierto.create_tier(%L, 'Free', 0, 5)$$, :'event'), '22023',
                 'price_minor must be an integer > 0 (minor units of the event currency)', 'tickets have a price');
select throws_ok(format($$select concierto.create_tier(%L, 'Empty', 100, 0)$$, :'event'), '22023',
                 'capacity must be 1 to 1000000 seats', 'and seats');
select throws_ok(format($$select concierto.create_tier(%L, 'Late', 100, 5, now() + interval '30 days')$$, :'event'), '22023',
                 'sale_ends_at (default: the event''s start) must be after sale_starts_at', 'a sale window that closes before it opens');
select throws_ok(format($$select concierto.create_tier(%L, 'General', 100, 5)$$, :'event'), '22023',
                 format('event %s has a tier named General already', :'event'), 'tier names are unique per event');

-- Reservations ------------------------------------------------------------------------------------

select pg_temp.reserve(:'buyer', :'tier', 2) as r1 \gset
select is(
  (select array_agg(k order by k) from jsonb_object_keys(:'r1'::jsonb) as k),
  array['amount_minor', 'currency', 'expires_at', 'metadata', 'order_id', 'product_id'],
  'reserve answers order_id, expires_at, product_id, amount_minor, currency and metadata'
);
select is((:'r1'::jsonb ->> 'amount_minor')::bigint, 5000::bigint, 'the amount is price x quantity');
select is(:'r1'::jsonb ->> 'currency', 'EUR', 'in the event''s currency');
select is((:'r1'::jsonb ->> 'expires_at')::timestamptz, now() + interval '15 minutes', 'held for 15 minutes');
select is(
  :'r1'::jsonb -> 'metadata',
  jsonb_build_object('product_id', (select product_id::text from concierto.ticket_tiers where id = :'tier'),
                     'buyer_id', :'buyer', 'quantity', '2', 'event_id', :'event', 'tier_id', :'tier',
                     'order_id', :'r1'::jsonb ->> 'order_id'),
  'metadata is what the Checkout Session carries: product, buyer, quantity (as Stripe strings), event, tier, order'
);
select results_eq(
  format($$select buyer_id, event_id, tier_id, quantity, amount_minor, state, payment_id from concierto.orders where id = %L$$,
         :'r1'::jsonb ->> 'order_id'),
  format($$values (%L::uuid, %L::uuid, %L::uuid, 2, 5000::bigint, 'reserved', null::text)$$, :'buyer', :'event', :'tier'),
  'the order is reserved for the buyer'
);

select is((select available from concierto.availability(:'event') where tier_id = :'tier'), 3, 'two of five seats are held');
select pg_temp.reserve(:'friend', :'tier', 3) as r2 \gset
select is((select available from concierto.availability(:'event') where tier_id = :'tier'), 0, 'five of five');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'stranger', :'tier'), '55000',
                 format('tier %s is sold out', :'tier'), 'no sixth seat: the tier is never oversold');

select throws_ok(format($$select pg_temp.reserve(%L, %L, 0)$$, :'buyer', :'tier'), '22023',
                 'quantity must be 1 to 10 tickets, got 0', 'at least one ticket');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 11)$$, :'buyer', :'trio_tier'), '22023',
                 'quantity must be 1 to 10 tickets, got 11', 'at most ten per order');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'buyer', gen_random_uuid()), 'P0002', null,
                 'an unknown tier');
select set_config('request.jwt.claims', '', true) as signed_out \gset
select throws_ok(format($$select concierto.reserve(%L, 1)$$, :'tier'), '42501', 'sign in to reserve tickets',
                 'a reservation needs a signed-in buyer');

-- The sale window.
select concierto.create_tier(:'event', 'Next week', 100, 5, now() + interval '1 day', now() + interval '2 days') as early_tier \gset
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'buyer', :'early_tier'), '55000',
                 format('tickets of tier %s go on sale at %s', :'early_tier', now() + interval '1 day'),
                 'not before the sale opens');
select concierto.create_tier(:'event', 'Yesterday', 100, 5, now() - interval '2 days', now() - interval '1 day') as late_tier \gset
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'buyer', :'late_tier'), '55000',
                 format('the sale of tier %s closed at %s', :'late_tier', now() - interval '1 day'),
                 'nor after it closes');
select is(
  (select array_agg(on_sale order by name) from concierto.availability(:'event') where tier_id in (:'tier', :'early_tier', :'late_tier')),
  array[true, false, false],
  'availability says which tiers are on sale'
);

-- Expired reservations go back on sale ------------------------------------------------------------

-- The buyer's 15 minutes are over (the transaction's clock stands still, so the order ages instead).
update concierto.orders set expires_at = now() - interval '1 second' where id = (:'r1'::jsonb ->> 'order_id')::uuid;
select is((select available from concierto.availability(:'event') where tier_id = :'tier'), 2,
          'an expired reservation holds nothing, before the job marks it');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 3)$$, :'stranger', :'tier'), '55000',
                 format('tier %s has 2 tickets left, 3 asked', :'tier'), 'what is left is what is asked for');
select pg_temp.reserve(:'stranger', :'tier', 2) as r3 \gset
select is((select available from concierto.availability(:'event') where tier_id = :'tier'), 0,
          'another buyer takes the seats it held');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'buyer', :'tier'), '55000',
                 format('tier %s is sold out', :'tier'), 'and the tier is full again');

select ok(concierto_private.expire_orders() >= 1, 'the job expires what is due');
select is((select state from concierto.orders where id = (:'r1'::jsonb ->> 'order_id')::uuid), 'expired',
          'the late order is marked expired');
select is((select state from concierto.orders where id = (:'r3'::jsonb ->> 'order_id')::uuid), 'reserved',
          'a live one is left alone');
select is(
  (select count(*) from concierto.orders where tier_id = :'tier' and state = 'reserved' and expires_at > now()),
  2::bigint,
  'two live reservations hold the five seats'
);
select is(
  (select sum(quantity) from concierto.orders where tier_id = :'tier' and state = 'reserved' and expires_at > now())::int
    + (select seats_sold from concierto.ticket_tiers where id = :'tier'),
  5,
  'sold plus held never exceeds capacity'
);

-- Sequential reservations against a capacity, one seat at a time: never more than capacity.
select concierto.create_tier(:'event', 'Ten', 500, 10) as ten \gset
create temporary table pg_temp.attempts (ok boolean);
create temporary table pg_temp.ten_tier as select :'ten'::uuid as id;
do $$
declare
  tier uuid := (select id from pg_temp.ten_tier);
begin
  for i in 1..25 loop
    begin
      perform pg_temp.reserve(gen_random_uuid(), tier, 1);
      insert into pg_temp.attempts values (true);
    exception when sqlstate '55000' then
      insert into pg_temp.attempts values (false);
    end;
  end loop;
end
$$;
select results_eq('select ok, count(*) from pg_temp.attempts group by ok order by ok',
                  $$values (false, 15::bigint), (true, 10::bigint)$$,
                  '25 buyers one seat each: ten reservations, fifteen sold out');
select is((select available from concierto.availability(:'event') where tier_id = :'ten'), 0, 'the tier is exactly full');
select is(
  (select sum(quantity)::int from concierto.orders where tier_id = :'ten' and state = 'reserved'), 10,
  'ten seats held, not one more'
);

select * from finish();
rollback;
