-- Concierto: who reads and calls what, as the API roles (SET ROLE plus the JWT claims, as
-- PostgREST does). Events, lineups and tiers are public; a ticket is read by its owner and by
-- the staff of its event (host included), an order by its buyer, scans by the event's staff,
-- transfers by their two parties, refunds_due by Treasury admins; service_role reads
-- everything. Nobody writes a Concierto table directly: everything goes through the functions.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(70);
\ir concierto_helpers.psql

select gen_random_uuid() as admin \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap concierto');
select pg_temp.buy(:'buyer', :'tier', 2, 'pi_pgtap_rls_c1') as o1 \gset
select pg_temp.ticket(:'o1', 1) as t1, pg_temp.ticket(:'o1', 2) as t2 \gset
select pg_temp.buy(:'stranger', :'other_tier', 1, 'pi_pgtap_rls_c2') as o2 \gset
select pg_temp.ticket(:'o2', 1) as elsewhere \gset
select pg_temp.as_user(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'t2', :'friend')) ->> 'version' as v2 \gset
select pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North')$$, :'t1', :'event')) ->> 'status' as s1 \gset
select pg_temp.reserve(:'buyer', :'tier', 1) ->> 'order_id' as held \gset
select pg_temp.reserve(:'stranger', :'tier', 1) ->> 'order_id' as strangers_hold \gset
-- A payment Concierto flags: an order paid twice.
select pg_temp.pay(jsonb_build_object('amount_minor', 5000, 'metadata', jsonb_build_object(
         'product_id', (select product_id from concierto.ticket_tiers where id = :'tier'), 'buyer_id', :'buyer',
         'quantity', '2', 'order_id', :'o1')), 'pi_pgtap_rls_c3') ->> 'status' as flagged \gset

-- anon ---------------------------------------------------------------------------------------------
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select ok((select count(*) >= 2 from concierto.events where id in (:'event', :'other_event')), 'anon reads events');
select ok((select count(*) = 2 from concierto.event_artists where event_id = :'event'), 'and lineups');
select ok((select count(*) = 1 from concierto.ticket_tiers where id = :'tier'), 'and tiers');
select is((select available from concierto.availability(:'event') where tier_id = :'tier'), 1, 'and what is available');
select is(concierto.is_staff(:'event'), false, 'anon is no staff');
select throws_ok('select count(*) from public.event_tickets', '42501', 'permission denied for table event_tickets',
                 'anon reads no tickets');
select throws_ok('select count(*) from concierto.orders', '42501', 'permission denied for table orders', 'no orders');
select throws_ok('select count(*) from concierto.staff', '42501', 'permission denied for table staff', 'no staff');
select throws_ok('select count(*) from concierto.scans', '42501', 'permission denied for table scans', 'no scans');
select throws_ok('select count(*) from concierto.refunds_due', '42501', 'permission denied for table refunds_due',
                 'no refunds due');
select throws_ok(format('select concierto.reserve(%L, 1)', :'tier'), '42501', 'permission denied for function reserve',
                 'anon cannot reserve');
select throws_ok(format('select concierto.ticket_for_token(%L)', :'t1'), '42501',
                 'permission denied for function ticket_for_token', 'nor get a token');
select throws_ok(format($$select concierto.redeem(%L, 1, %L, 'x')$$, :'t1', :'event'), '42501',
                 'permission denied for function redeem', 'nor redeem');
select throws_ok($$select concierto.upload_scans('[]')$$, '42501', 'permission denied for function upload_scans',
                 'nor upload scans');
select throws_ok(format('select concierto.transfer_ticket(%L, %L)', :'t1', :'friend'), '42501',
                 'permission denied for function transfer_ticket', 'nor transfer');
select throws_ok(format('select concierto.host_stats(%L)', :'event'), '42501', 'permission denied for function host_stats',
                 'nor read stats');
select throws_ok(format($$select concierto.create_tier(%L, 'x', 1, 1)$$, :'event'), '42501',
                 'permission denied for function create_tier', 'nor create tiers');
reset role;

-- the owner ----------------------------------------------------------------------------------------
select pg_temp.act_as(:'buyer');
select is((select array_agg(id) from public.event_tickets), array[:'t1']::uuid[],
          'the buyer reads their ticket, not the one they gave away nor anyone else''s');
select is((select array_agg(id order by id) from concierto.orders),
          (select array_agg(id order by id) from unnest(array[:'o1', :'held']::uuid[]) as id),
          'their orders only');
select is((select count(*)::int from concierto.ticket_transfers where ticket_id = :'t2'), 1, 'the transfers they made');
select is((select count(*)::int from concierto.scans), 0, 'no scans');
select is((select count(*)::int from concierto.staff), 0, 'no staff rows');
select is((select count(*)::int from concierto.refunds_due), 0, 'no refunds due, not even their own payment''s');
select is(concierto.ticket_for_token(:'t1') ->> 'state', 'redeemed', 'a token for their ticket');
select throws_ok(format('select concierto.ticket_for_token(%L)', :'t2'), '42501', format('ticket %s is not yours', :'t2'),
                 'not for the one they gave away');
select throws_ok(format($$select concierto.redeem(%L, 1, %L, 'x')$$, :'t2', :'event'), '42501',
                 format('you are not staff of event %s', :'event'), 'they cannot validate');
select throws_ok(format('select concierto.host_stats(%L)', :'event'), '42501',
                 format('the stats of event %s are for its host and staff', :'event'), 'nor read stats');
select throws_ok($$select concierto.create_event(gen_random_uuid(), 'x', 'v', 'c', 'NG', now(), now(), 'EUR', 0, 10000, 0, array[gen_random_uuid()])$$,
                 '42501', 'permission denied for function create_event', 'users do not create events');
select throws_ok(format($$select concierto.create_tier(%L, 'x', 1, 1)$$, :'event'), '42501',
                 format('only the host of event %s creates its tiers', :'event'), 'nor tiers of others');
select throws_ok(format('select concierto.add_staff(%L, %L)', :'buyer', :'host'), '42501', 'a host manages only their own staff',
                 'nor make themselves staff');
select throws_ok(format($$insert into public.event_tickets (event_id, tier_id, order_id, seat, owner_id) values (%L, %L, %L, 9, %L)$$,
                        :'event', :'tier', :'o1', :'buyer'),
                 '42501', 'permission denied for table event_tickets', 'nor write tickets');
select throws_ok(format($$update public.event_tickets set state = 'valid' where id = %L$$, :'t1'), '42501',
                 'permission denied for table event_tickets', 'nor un-redeem one');
select throws_ok(format($$update concierto.orders set state = 'paid' where id = %L$$, :'held'), '42501',
                 'permission denied for table orders', 'nor mark an order paid');
select throws_ok(format($$update concierto.ticket_tiers set capacity = 1000 where id = %L$$, :'tier'), '42501',
                 'permission denied for table ticket_tiers', 'nor change a tier');
reset role;

-- the receiver of a transfer ------------------------------------------------------------------------
select pg_temp.act_as(:'friend');
select is((select array_agg(id) from public.event_tickets), array[:'t2']::uuid[], 'the receiver reads the ticket they got');
select is((select count(*)::int from concierto.ticket_transfers where ticket_id = :'t2'), 1, 'and its transfer');
select is((select count(*)::int from concierto.orders), 0, 'not the order it came from');
reset role;

-- another user -------------------------------------------------------------------------------------
select pg_temp.act_as(:'stranger');
select is((select array_agg(id) from public.event_tickets), array[:'elsewhere']::uuid[], 'another user reads only their own ticket');
select is((select array_agg(id) from concierto.orders where event_id = :'event'), array[:'strangers_hold']::uuid[],
          'and only their own orders of the event');
select is((select count(*)::int from concierto.ticket_transfers), 0, 'no one else''s transfers');
select is(concierto.is_staff(:'event'), false, 'they are not staff');
select throws_ok(format('select concierto.ticket_for_token(%L)', :'t1'), '42501', format('ticket %s is not yours', :'t1'),
                 'nor get a token for someone else''s ticket');
select throws_ok(format('select concierto.transfer_ticket(%L, %L)', :'t1', :'stranger'), '42501',
                 format('ticket %s is not yours', :'t1'), 'nor transfer it');
reset role;

-- the host's staff ---------------------------------------------------------------------------------
select pg_temp.act_as(:'staffer');
select is(concierto.is_staff(:'event'), true, 'staff are staff of the host''s event');
select is(concierto.is_staff(:'other_event'), false, 'not of another host''s');
select is((select array_agg(id order by id) from public.event_tickets),
          (select array_agg(id order by id) from unnest(array[:'t1', :'t2']::uuid[]) as id),
          'staff read the tickets of their events, whoever owns them, and no others');
select is((select count(*)::int from concierto.scans where event_id = :'event'), 1, 'and their events'' scans');
select is((select count(*)::int from concierto.orders), 0, 'not orders');
select results_eq('select host_id, user_id from concierto.staff', format($$values (%L::uuid, %L::uuid)$$, :'host', :'staffer'),
                  'their own staff row');
select is(concierto.host_stats(:'event') ->> 'event_id', :'event', 'the event''s stats');
select throws_ok(format('select concierto.ticket_for_token(%L)', :'t1'), '42501', format('ticket %s is not yours', :'t1'),
                 'no token for a ticket they can see');
select throws_ok(format($$select concierto.redeem(%L, 1, %L, 'x')$$, :'elsewhere', :'other_event'), '42501',
                 format('you are not staff of event %s', :'other_event'), 'no redeeming at another host''s event');
select throws_ok(format('select concierto.add_staff(%L, %L)', :'stranger', :'host'), '42501', 'a host manages only their own staff',
                 'staff do not add staff');
reset role;

-- the host -----------------------------------------------------------------------------------------
select pg_temp.act_as(:'host');
select is(concierto.is_staff(:'event'), true, 'the host is staff of their event');
select is((select count(*)::int from public.event_tickets), 2, 'and reads its tickets');
select lives_ok(format('select concierto.add_staff(%L)', :'friend'), 'the host adds staff');
select is((select count(*)::int from concierto.staff), 2, 'and reads their staff');
select is(concierto.remove_staff(:'friend'), true, 'and removes them');
reset role;

-- a Treasury admin ----------------------------------------------------------------------------------
select pg_temp.act_as(:'admin');
select is((select count(*)::int from concierto.refunds_due where payment_id = 'pi_pgtap_rls_c3'), 1, 'admins read refunds due');
select is(concierto.host_stats(:'event') ->> 'event_id', :'event', 'and any event''s stats');
select is((select count(*)::int from public.event_tickets where event_id = :'event'), 0, 'but not tickets');
reset role;

-- service_role -------------------------------------------------------------------------------------
set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select ok((select count(*) >= 3 from public.event_tickets where id in (:'t1', :'t2', :'elsewhere')), 'service_role reads every ticket');
select ok((select count(*) >= 4 from concierto.orders where id in (:'o1', :'o2', :'held', :'strangers_hold')), 'every order');
select ok((select count(*) >= 1 from concierto.scans where event_id = :'event'), 'every scan');
select ok((select count(*) >= 1 from concierto.refunds_due where payment_id = 'pi_pgtap_rls_c3'), 'refunds due');
select is(concierto.host_stats(:'event') ->> 'event_id', :'event', 'any event''s stats');
select isnt(concierto.create_event(gen_random_uuid(), 'By the platform', 'Hall', 'Paris', 'FR', now() + interval '1 day',
                                   now() + interval '1 day', 'EUR', 2000, 7000, 1000, array[gen_random_uuid()]), null,
            'service_role creates events');
select throws_ok(format('select concierto.reserve(%L, 1)', :'tier'), '42501', 'permission denied for function reserve',
                 'but reserves for nobody: reservations are a user''s');
select throws_ok(format($$select concierto.redeem(%L, 1, %L, 'x')$$, :'t2', :'event'), '42501',
                 'permission denied for function redeem', 'nor validates: the door is staff''s');
select throws_ok(format($$update public.event_tickets set owner_id = %L where id = %L$$, :'stranger', :'t2'), '42501',
                 'permission denied for table event_tickets', 'nor writes tickets');
reset role;

select * from finish();
rollback;
