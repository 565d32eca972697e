-- Concierto at the door: what the token carries (owner only), redeem's answers (admitted,
-- already_admitted with the first scan's time and gate, old_version, wrong_event, void_ticket,
-- unknown_ticket; not staff 42501), the Passport events of an admission, offline uploads
-- (idempotent by nonce, conflicts reported), transfers that kill earlier versions, host stats, and
-- the times a scan can have happened (future, late upload, before issue or transfer, door window).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(78);
\ir concierto_helpers.psql

-- A moment some seconds from now. The transaction's clock stands still: its tickets are issued at
-- now(), so the scans here lie in the minute around it that a scanner's clock may be off by.
create function pg_temp.at(seconds int)
returns timestamptz
language sql
as $$
  select now() + make_interval(secs => seconds)
$$;

select pg_temp.buy(:'buyer', :'tier', 3, 'pi_pgtap_door_1') as o1 \gset
select pg_temp.ticket(:'o1', 1) as t1, pg_temp.ticket(:'o1', 2) as t2, pg_temp.ticket(:'o1', 3) as t3 \gset
select pg_temp.buy(:'stranger', :'other_tier', 1, 'pi_pgtap_door_2') as o2 \gset
select pg_temp.ticket(:'o2', 1) as elsewhere \gset
select pg_temp.buy(:'buyer', :'tier', 1, 'pi_pgtap_door_3') as o3 \gset
select pg_temp.ticket(:'o3', 1) as refunded \gset
select pg_temp.refund('pi_pgtap_door_3', 2500, 2500) ->> 'status' as refund_status \gset

-- ticket_for_token --------------------------------------------------------------------------------

select is(
  pg_temp.as_user(:'buyer', format('select concierto.ticket_for_token(%L)', :'t1')),
  jsonb_build_object('ticket_id', :'t1'::uuid, 'version', 1, 'event_id', :'event'::uuid, 'state', 'valid'),
  'the owner gets what the token carries: ticket, version, event, state'
);
select throws_ok(pg_temp.call_as(:'stranger', format('select concierto.ticket_for_token(%L)', :'t1')), '42501',
                 format('ticket %s is not yours', :'t1'), 'nobody else does');
select throws_ok(pg_temp.call_as(:'staffer', format('select concierto.ticket_for_token(%L)', :'t1')), '42501',
                 format('ticket %s is not yours', :'t1'), 'not even the door staff');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.ticket_for_token(%L)', gen_random_uuid())), 'P0002', null,
                 'an unknown ticket');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.ticket_for_token(%L)', :'refunded')), '55000',
                 format('ticket %s is void (refund)', :'refunded'), 'a void ticket gets no token');
select set_config('request.jwt.claims', '', true) as signed_out \gset
select throws_ok(format('select concierto.ticket_for_token(%L)', :'t1'), '42501', 'sign in to show a ticket',
                 'a token needs a signed-in owner');

-- redeem ---------------------------------------------------------------------------------------------

create function pg_temp.redeem(who uuid, ticket uuid, version int, event uuid, gate text, at timestamptz default now(),
                               nonce text default null)
returns jsonb
language sql
as $$
  select pg_temp.as_user(who, format('select concierto.redeem(%L, %s, %L, %L, %L, %L)', ticket, version, event, gate, at, nonce))
$$;

select is(
  pg_temp.redeem(:'staffer', :'t1', 1, :'event', 'North', pg_temp.at(-50)),
  jsonb_build_object('status', 'admitted', 'ticket_id', :'t1'::uuid, 'at', pg_temp.at(-50), 'gate', 'North'),
  'a valid ticket is admitted: its id, the time and the gate'
);
select is(
  pg_temp.redeem(:'host', :'t1', 1, :'event', 'South', pg_temp.at(-45)),
  jsonb_build_object('status', 'already_admitted', 'at', pg_temp.at(-50), 'gate', 'North'),
  'a second scan is already_admitted, with the first scan''s time and gate'
);
select results_eq(
  format($$select state, redeemed_at, redeemed_gate, redeemed_by from public.event_tickets where id = %L$$, :'t1'),
  format($$values ('redeemed', pg_temp.at(-50), 'North', %L::uuid)$$, :'staffer'),
  'the ticket is redeemed by whom, where and when'
);
select results_eq(
  format($$select kind, artist_id, payload, occurred_at from public.passport_entries
           where user_id = %L and kind in ('concierto.ticket_validated', 'concierto.event_attended') order by id$$, :'buyer'),
  format($$values
    ('concierto.ticket_validated', null::uuid,
     jsonb_build_object('event_id', %1$L::text, 'ticket_id', %2$L::text, 'gate', 'North', 'city', 'Lagos', 'country', 'NG'),
     pg_temp.at(-50)),
    ('concierto.event_attended', %3$L::uuid, jsonb_build_object('event_id', %1$L::text, 'city', 'Lagos', 'country', 'NG'),
     pg_temp.at(-50)),
    ('concierto.event_attended', %4$L::uuid, jsonb_build_object('event_id', %1$L::text, 'city', 'Lagos', 'country', 'NG'),
     pg_temp.at(-50))$$, :'event', :'t1', :'headliner', :'support'),
  'Passport: ticket_validated for the holder and event_attended for each lineup artist, at the scan''s time'
);
select is(pg_temp.redeem(:'host', :'t2', 1, :'event', 'South', pg_temp.at(-40)) ->> 'status', 'admitted',
          'the host is staff of their own events');
select is(
  (select count(*)::int from public.passport_entries where user_id = :'buyer' and kind = 'concierto.event_attended'), 2,
  'a fan attends an event once per artist, however many of their tickets are scanned'
);
select is((select count(*)::int from public.passport_entries where user_id = :'buyer' and kind = 'concierto.ticket_validated'), 2,
          'while each ticket is validated once');

select is(pg_temp.redeem(:'other_host', :'t3', 1, :'other_event', 'Main'), '{"status": "refused", "code": "wrong_event"}'::jsonb,
          'a ticket of another event is refused: wrong_event');
select is(pg_temp.redeem(:'staffer', gen_random_uuid(), 1, :'event', 'North'), '{"status": "refused", "code": "unknown_ticket"}'::jsonb,
          'a ticket that does not exist: unknown_ticket');
select is(pg_temp.redeem(:'staffer', :'refunded', 1, :'event', 'North'), '{"status": "refused", "code": "void_ticket"}'::jsonb,
          'a refunded ticket: void_ticket');
select is((select state from public.event_tickets where id = :'t3'), 'valid', 'a refused scan changes nothing');

select throws_ok(pg_temp.call_as(:'stranger', format($$select concierto.redeem(%L, 1, %L, 'North')$$, :'t3', :'event')), '42501',
                 format('you are not staff of event %s', :'event'), 'someone who is not staff: 42501');
select throws_ok(pg_temp.call_as(:'buyer', format($$select concierto.redeem(%L, 1, %L, 'North')$$, :'t3', :'event')), '42501',
                 format('you are not staff of event %s', :'event'), 'nor is the ticket''s owner');
select throws_ok(pg_temp.call_as(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'Main')$$, :'elsewhere', :'other_event')),
                 '42501', format('you are not staff of event %s', :'other_event'), 'staff of one host are not staff of another');
select throws_ok(pg_temp.call_as(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'Main')$$, :'t3', gen_random_uuid())),
                 'P0002', null, 'an unknown event');
select set_config('request.jwt.claims', '', true) as signed_out \gset
select throws_ok(format($$select concierto.redeem(%L, 1, %L, 'North')$$, :'t3', :'event'), '42501', 'sign in to validate tickets',
                 'the door needs a signed-in staff member');
select throws_ok(pg_temp.call_as(:'staffer', format($$select concierto.redeem(%L, 1, %L, '')$$, :'t3', :'event')), '22023',
                 'gate must be a string of 1 to 100 characters', 'a scan names its gate');
select throws_ok(pg_temp.call_as(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North', 'infinity')$$,
                                                    :'t3', :'event')),
                 '22023', 'scanned_at must be a timestamp', 'at a time');

select pg_temp.as_user(:'host', format('select to_jsonb(concierto.remove_staff(%L))', :'staffer')) as removed \gset
select is(:'removed'::jsonb, 'true'::jsonb, 'the host removes a staff member');
select throws_ok(pg_temp.call_as(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North')$$, :'t3', :'event')), '42501',
                 format('you are not staff of event %s', :'event'), 'who can no longer validate');
select pg_temp.as_user(:'host', format('select to_jsonb(concierto.add_staff(%L))', :'staffer')) as readded \gset

-- With a nonce, a redeem is answered once.
select is(pg_temp.redeem(:'staffer', gen_random_uuid(), 1, :'event', 'North', pg_temp.at(-35), 'n-online-1'),
          '{"status": "refused", "code": "unknown_ticket"}'::jsonb, 'a scan with a nonce');
select is(pg_temp.redeem(:'staffer', :'t3', 1, :'event', 'North', pg_temp.at(-35), 'n-online-1'),
          '{"status": "refused", "code": "nonce_reused"}'::jsonb, 'the nonce of another scan is refused: nonce_reused');
select is((select state from public.event_tickets where id = :'t3'), 'valid', 'and applies nothing');

-- Transfers ------------------------------------------------------------------------------------------

select is(
  pg_temp.as_user(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'t3', :'friend')),
  jsonb_build_object('ticket_id', :'t3'::uuid, 'version', 2, 'event_id', :'event'::uuid, 'owner_id', :'friend'::uuid),
  'the owner gives a ticket away: new owner, version 2'
);
select is(pg_temp.redeem(:'staffer', :'t3', 1, :'event', 'North'), '{"status": "refused", "code": "old_version"}'::jsonb,
          'a token of version 1 is dead: old_version');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.ticket_for_token(%L)', :'t3')), '42501',
                 format('ticket %s is not yours', :'t3'), 'the giver can no longer show it');
select is(pg_temp.as_user(:'friend', format('select concierto.ticket_for_token(%L)', :'t3')) ->> 'version', '2',
          'the receiver shows version 2');
select results_eq(
  format($$select from_user, to_user, version from concierto.ticket_transfers where ticket_id = %L$$, :'t3'),
  format($$values (%L::uuid, %L::uuid, 2)$$, :'buyer', :'friend'),
  'the transfer is recorded'
);
select results_eq(
  format($$select user_id, artist_id, payload, client_event_id from public.passport_entries
           where kind = 'concierto.ticket_transferred' and payload ->> 'ticket_id' = %L$$, :'t3'),
  format($$values (%L::uuid, null::uuid, jsonb_build_object('event_id', %L::text, 'ticket_id', %L::text, 'to_user_id', %L::text),
                   'concierto:ticket:' || %L || ':transferred:2')$$, :'buyer', :'event', :'t3', :'friend', :'t3'),
  'Passport: ticket_transferred by the giver, naming the receiver'
);
select is(pg_temp.as_user(:'friend', format('select concierto.transfer_ticket(%L, %L)', :'t3', :'buyer')) ->> 'version', '3',
          'given back, it is version 3');
select is(pg_temp.redeem(:'staffer', :'t3', 2, :'event', 'North'), '{"status": "refused", "code": "old_version"}'::jsonb,
          'and version 2 is dead too');
select throws_ok(pg_temp.call_as(:'friend', format('select concierto.transfer_ticket(%L, %L)', :'t3', :'stranger')), '42501',
                 format('ticket %s is not yours', :'t3'), 'only the owner transfers');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'t3', :'buyer')), '22023',
                 'the ticket is yours already', 'not to oneself');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.transfer_ticket(%L, null)', :'t3')), '22023',
                 'to_user is required', 'to someone');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'t1', :'friend')), '55000',
                 format('ticket %s is redeemed and cannot be transferred', :'t1'), 'an admitted ticket stays with its holder');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'refunded', :'friend')), '55000',
                 format('ticket %s is void and cannot be transferred', :'refunded'), 'a void one cannot be given');
select throws_ok(pg_temp.call_as(:'buyer', format('select concierto.transfer_ticket(%L, %L)', gen_random_uuid(), :'friend')),
                 'P0002', null, 'an unknown ticket');

-- Offline uploads ----------------------------------------------------------------------------------

select pg_temp.buy(:'buyer', :'tier', 1, 'pi_pgtap_door_4') as o4 \gset
select pg_temp.ticket(:'o4', 1) as t4 \gset
select jsonb_build_array(
  jsonb_build_object('ticket_id', :'t4', 'version', 1, 'event_id', :'event', 'gate', 'Offline 1',
                     'scanned_at', pg_temp.at(-25), 'nonce', 'n-1'),
  jsonb_build_object('ticket_id', :'t4', 'version', 1, 'event_id', :'event', 'gate', 'Offline 2',
                     'scanned_at', pg_temp.at(-30), 'nonce', 'n-2'),
  jsonb_build_object('ticket_id', :'t1', 'version', 1, 'event_id', :'event', 'gate', 'Offline 1',
                     'scanned_at', pg_temp.at(-20), 'nonce', 'n-3'),
  jsonb_build_object('ticket_id', :'t3', 'version', 1, 'event_id', :'event', 'gate', 'Offline 1',
                     'scanned_at', pg_temp.at(-15), 'nonce', 'n-4')) as queue \gset
select pg_temp.as_user(:'staffer', format('select concierto.upload_scans(%L)', :'queue')) as uploaded \gset

select is(
  :'uploaded'::jsonb -> 'results',
  jsonb_build_array(
    jsonb_build_object('nonce', 'n-1', 'ticket_id', :'t4', 'status', 'already_admitted',
                       'at', pg_temp.at(-30), 'gate', 'Offline 2'),
    jsonb_build_object('nonce', 'n-2', 'ticket_id', :'t4', 'status', 'admitted', 'at', pg_temp.at(-30),
                       'gate', 'Offline 2'),
    jsonb_build_object('nonce', 'n-3', 'ticket_id', :'t1', 'status', 'already_admitted',
                       'at', pg_temp.at(-50), 'gate', 'North'),
    jsonb_build_object('nonce', 'n-4', 'ticket_id', :'t3', 'status', 'refused', 'code', 'old_version')),
  'each scan is answered in the order sent; of two scans of a ticket the earlier is admitted; conflicts name the admitting scan'
);
select results_eq(
  format($$select (%L::jsonb ->> k)::int from unnest(array['admitted', 'already_admitted', 'refused']) as k$$, :'uploaded'),
  $$values (1), (2), (1)$$,
  'with counts: one admitted, two conflicts, one refused'
);
select is(pg_temp.as_user(:'staffer', format('select concierto.upload_scans(%L)', :'queue')), :'uploaded'::jsonb,
          'uploading the same queue again gives exactly the same answer');
select is(pg_temp.as_user(:'host', format('select concierto.upload_scans(%L)', :'queue')), :'uploaded'::jsonb,
          'whoever of the staff uploads it');
select is((select count(*)::int from concierto.scans where nonce in ('n-1', 'n-2', 'n-3', 'n-4')), 4, 'each nonce is stored once');
select is((select count(*)::int from public.passport_entries where kind = 'concierto.ticket_validated' and payload ->> 'ticket_id' = :'t4'),
          1, 'and an admission is logged once');
select is(
  pg_temp.as_user(:'staffer', format('select concierto.upload_scans(%L)', jsonb_build_array(
    jsonb_build_object('ticket_id', :'t2', 'version', 1, 'event_id', :'event', 'gate', 'Offline 3',
                       'scanned_at', pg_temp.at(-10), 'nonce', 'n-5'),
    :'queue'::jsonb -> 0))) -> 'results' -> 1,
  :'uploaded'::jsonb -> 'results' -> 0,
  'a queue that overlaps an earlier upload answers the old scans as before'
);
select is(
  pg_temp.redeem(:'staffer', :'t2', 1, :'event', 'Elsewhere', pg_temp.at(-10), 'n-5'),
  '{"status": "refused", "code": "nonce_reused"}'::jsonb,
  'a nonce replayed with another gate is nonce_reused'
);

select throws_ok(pg_temp.call_as(:'staffer', $$select concierto.upload_scans('{}')$$), '22023',
                 'scans must be a JSON array of 1 to 500 {"ticket_id", "version", "event_id", "gate", "scanned_at", "nonce"}',
                 'scans is an array');
select throws_ok(pg_temp.call_as(:'staffer', format('select concierto.upload_scans(%L)', jsonb_build_array(
                   :'queue'::jsonb -> 0, (:'queue'::jsonb -> 1) - 'nonce'))), '22023',
                 'scans[1]: nonce must be a string of 1 to 200 characters', 'a malformed scan is named, and nothing is applied');
select throws_ok(pg_temp.call_as(:'staffer', format('select concierto.upload_scans(%L)', jsonb_build_array(
                   jsonb_set(:'queue'::jsonb -> 0, '{scanned_at}', '"2026-01-10 20:00"')))), '22023',
                 'scans[0]: scanned_at must be an RFC 3339 timestamp', 'times are RFC 3339');
select throws_ok(pg_temp.call_as(:'staffer', format('select concierto.upload_scans(%L)', jsonb_build_array(
                   jsonb_build_object('ticket_id', :'t2', 'version', 1, 'event_id', :'event', 'gate', 'x', 'nonce', 'n-10',
                                      'scanned_at', pg_temp.at(-10)),
                   jsonb_build_object('ticket_id', :'elsewhere', 'version', 1, 'event_id', :'other_event', 'gate', 'x',
                                      'nonce', 'n-11', 'scanned_at', pg_temp.at(-10))))),
                 '42501', format('you are not staff of event %s', :'other_event'), 'an upload naming an event the caller does not work');
select is((select count(*)::int from concierto.scans where nonce in ('n-10', 'n-11')), 0, 'is refused as a whole');

-- Host stats -----------------------------------------------------------------------------------------

select pg_temp.reserve(:'stranger', :'tier', 1) as held \gset
select pg_temp.as_user(:'host', format('select concierto.host_stats(%L)', :'event')) as stats \gset
select is(
  :'stats'::jsonb -> 'tiers',
  jsonb_build_array(jsonb_build_object('tier_id', :'tier', 'name', 'General', 'capacity', 5, 'sold', 4, 'issued', 5,
                                       'redeemed', 3, 'void', 1, 'reserved', 1, 'available', 0)),
  'per tier: sold (not void), issued, redeemed, void, reserved by live checkouts, available'
);
select is(
  :'stats'::jsonb -> 'checkins',
  (select jsonb_agg(jsonb_build_object('at', b.at, 'count', b.n) order by b.at)
   from (select date_bin('5 minutes', x, timestamptz '2000-01-01 00:00:00+00') as at, count(*) as n
         from unnest(array[pg_temp.at(-50), pg_temp.at(-40), pg_temp.at(-30)]) as x group by 1) as b),
  'check-ins per 5 minutes, by the time of the admitting scan'
);
select is(pg_temp.as_user(:'staffer', format('select concierto.host_stats(%L)', :'event')), :'stats'::jsonb,
          'the host''s staff read the same');
-- As the API role: the database's owner and service_role read every event's stats.
select pg_temp.act_as(:'stranger');
select throws_ok(format('select concierto.host_stats(%L)', :'event'), '42501',
                 format('the stats of event %s are for its host and staff', :'event'), 'nobody else');
reset role;
select pg_temp.act_as(:'host');
select throws_ok(format('select concierto.host_stats(%L)', :'other_event'), '42501',
                 format('the stats of event %s are for its host and staff', :'other_event'), 'not another host');
select throws_ok(format('select concierto.host_stats(%L)', gen_random_uuid()), 'P0002', null, 'an unknown event');
reset role;

-- When a scan can have happened ------------------------------------------------------------------------
-- A scan is dated by the scanner; the door admits only a time that can be true: not in the future (a
-- minute of clock skew), not from an upload a day late, not before the ticket or its current version
-- existed (a minute of skew), inside the event's door window (an hour before doors .. 8 hours after
-- the start). Each refusal has its code, is stored under its nonce, and admits nothing.

select concierto.create_tier(:'event', 'Door rules', 1000, 10) as rules_tier \gset
select pg_temp.buy(:'buyer', :'rules_tier', 5, 'pi_pgtap_door_5') as o5 \gset
select pg_temp.ticket(:'o5', 1) as r1, pg_temp.ticket(:'o5', 2) as r2, pg_temp.ticket(:'o5', 3) as r3,
       pg_temp.ticket(:'o5', 4) as r4, pg_temp.ticket(:'o5', 5) as r5 \gset

select is(pg_temp.as_user(:'staffer', format('select concierto.upload_scans(%L)', jsonb_build_array(
            jsonb_build_object('ticket_id', :'r1', 'version', 1, 'event_id', :'event', 'gate', 'x', 'nonce', 'n-future',
                               'scanned_at', to_char(now() + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))))) -> 'results',
          jsonb_build_array(jsonb_build_object('nonce', 'n-future', 'ticket_id', :'r1', 'status', 'refused', 'code', 'scanned_in_future')),
          'an offline scan dated an hour ahead is refused on its own: scanned_in_future');
select is(pg_temp.redeem(:'staffer', :'r1', 1, :'event', 'North', pg_temp.at(61)),
          '{"status": "refused", "code": "scanned_in_future"}'::jsonb, 'more than a minute ahead: scanned_in_future');
select is((select state from public.event_tickets where id = :'r1'), 'valid', 'a refused time admits nothing');
select is(pg_temp.redeem(:'staffer', :'r1', 1, :'event', 'North', pg_temp.at(60)) ->> 'status', 'admitted',
          'a minute ahead is a scanner''s clock, and admitted');

select is(pg_temp.redeem(:'staffer', :'r2', 1, :'event', 'North', now() - interval '24 hours 1 second', 'n-late'),
          '{"status": "refused", "code": "upload_too_late"}'::jsonb, 'a scan more than 24 hours old: upload_too_late');
select is(pg_temp.redeem(:'staffer', :'r2', 1, :'event', 'North', now() - interval '24 hours 1 second', 'n-late'),
          '{"status": "refused", "code": "upload_too_late"}'::jsonb, 'stored under its nonce: a replay answers the same');
select is(pg_temp.redeem(:'staffer', :'r2', 1, :'event', 'North', pg_temp.at(-61)),
          '{"status": "refused", "code": "scanned_before_issue"}'::jsonb,
          'a scan dated more than a minute before the ticket was issued: scanned_before_issue');
select is(pg_temp.redeem(:'staffer', :'r2', 1, :'event', 'North', pg_temp.at(-60)) ->> 'status', 'admitted',
          'a minute before is a scanner''s clock, and admitted');

-- r3 and r4 were issued three hours ago; r3 changed hands now.
update public.event_tickets set issued_at = now() - interval '3 hours' where id in (:'r3', :'r4');
select pg_temp.as_user(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'r3', :'friend')) ->> 'version' as r3v \gset
select is(pg_temp.redeem(:'staffer', :'r3', 2, :'event', 'North', now() - interval '30 minutes'),
          '{"status": "refused", "code": "scanned_before_transfer"}'::jsonb,
          'version 2 scanned before the transfer that made it: scanned_before_transfer');
select is(pg_temp.redeem(:'staffer', :'r4', 1, :'event', 'North', now() - interval '30 minutes') ->> 'status', 'admitted',
          'a ticket issued before the scan is admitted at that time');
select is(pg_temp.redeem(:'staffer', :'r3', 2, :'event', 'North') ->> 'status', 'admitted', 'and version 2 now');

-- Door windows: an event whose doors open in two hours, and one that started 8 hours ago.
select concierto.create_event(:'host', 'pgTAP later', 'The Shrine', 'Lagos', 'NG', now() + interval '3 hours',
                              now() + interval '2 hours', 'EUR', 2000, 7000, 1000, array[:'headliner']::uuid[]) as later \gset
select concierto.create_tier(:'later', 'General', 1000, 10) as later_tier \gset
select pg_temp.buy(:'buyer', :'later_tier', 2, 'pi_pgtap_door_6') as o6 \gset
select concierto.create_event(:'host', 'pgTAP over', 'The Shrine', 'Lagos', 'NG', now() - interval '8 hours',
                              now() - interval '9 hours', 'EUR', 2000, 7000, 1000, array[:'headliner']::uuid[]) as over \gset
select concierto.create_tier(:'over', 'General', 1000, 10, now() - interval '1 day', now() + interval '1 hour') as over_tier \gset
select pg_temp.buy(:'buyer', :'over_tier', 2, 'pi_pgtap_door_7') as o7 \gset

select is(pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North')$$, pg_temp.ticket(:'o6', 1), :'later')),
          '{"status": "refused", "code": "doors_not_open"}'::jsonb,
          'online, more than an hour before the doors open: doors_not_open');
select is(pg_temp.as_user(:'staffer', format('select concierto.upload_scans(%L)', jsonb_build_array(
            jsonb_build_object('ticket_id', pg_temp.ticket(:'o6', 2), 'version', 1, 'event_id', :'later', 'gate', 'x',
                               'nonce', 'n-early', 'scanned_at', now())))) -> 'results' -> 0 ->> 'code',
          'doors_not_open', 'offline too');
select is(pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North')$$, pg_temp.ticket(:'o7', 1), :'over')),
          '{"status": "refused", "code": "doors_closed"}'::jsonb, 'online, 8 hours after the start: doors_closed');
select is(pg_temp.redeem(:'staffer', pg_temp.ticket(:'o7', 2), 1, :'over', 'North', pg_temp.at(-1)) ->> 'status', 'admitted',
          'a scan a second before that is admitted');
select is((select count(*)::int from public.event_tickets where order_id in (:'o6', :'o7') and state = 'redeemed'), 1,
          'outside the window nothing is admitted');

select * from finish();
rollback;
