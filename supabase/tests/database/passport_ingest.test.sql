-- Passport: passport.ingest (the batch writer behind passport-log),
-- passport.log (server-side producers) and the rejection record.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(34);

select gen_random_uuid() as fan, gen_random_uuid() as other_fan, gen_random_uuid() as artist \gset

-- Only this test's rejections, so that counts and pruning are exact.
delete from passport.rejections;

create temp table batch1 as
select passport.ingest(jsonb_build_array(
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio.play', 'client_event_id', 'play-1',
                     'occurred_at', '2026-11-20T08:00:00.123456+01:00', 'artist_id', :'artist',
                     'payload', jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001', 'duration_ms', 31000)),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio.play', 'client_event_id', 'play-1',
                     'occurred_at', '2026-11-20T08:00:00Z', 'artist_id', :'artist',
                     'payload', jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001', 'duration_ms', 99)),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio.play', 'client_event_id', 'play-2',
                     'artist_id', :'artist', 'payload', jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001')),
  jsonb_build_object('rejected', jsonb_build_object('code', 'event_too_large', 'message', 'the event is larger than 32768 bytes'),
                     'user_id', :'fan', 'source', 'app', 'kind', 'audio.play', 'client_event_id', 'play-3'),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'follow-1',
                     'artist_id', :'artist'),
  '"not an event"'::jsonb,
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'treasury.money_spent', 'client_event_id', 'spend-1',
                     'payload', jsonb_build_object('payment_id', 'pi_1', 'amount_minor', 500, 'currency', 'EUR', 'product_type', 'tip'))
)) as r;

select (r -> 0 ->> 'id')::bigint as play_id, (r -> 4 ->> 'id')::bigint as follow_id from batch1 \gset

-- One result per event, in order ------------------------------------------------------

select is(jsonb_array_length(r), 7, 'one result per event') from batch1;
select is(r -> 0, jsonb_build_object('status', 'accepted', 'id', :play_id), 'a valid event is accepted') from batch1;
select is(r -> 1, jsonb_build_object('status', 'duplicate', 'id', :play_id),
          'a repeat within the batch is a duplicate of the first') from batch1;
select is(r -> 2, '{"status": "rejected", "code": "missing_field", "message": "payload.duration_ms is required for audio.play"}'::jsonb,
          'an invalid event is rejected with the catalog''s code and message') from batch1;
select is(r -> 3, '{"status": "rejected", "code": "event_too_large", "message": "the event is larger than 32768 bytes"}'::jsonb,
          'an event the edge refused is answered with the edge''s reason') from batch1;
select is(r -> 4 ->> 'status', 'accepted', 'the next valid event is accepted') from batch1;
select is(r -> 5, '{"status": "rejected", "code": "invalid_event", "message": "an event must be a JSON object"}'::jsonb,
          'an element that is not an object is rejected') from batch1;
select is(r -> 6, '{"status": "rejected", "code": "forbidden_kind", "message": "treasury.money_spent is not accepted from source app"}'::jsonb,
          'the app cannot log money') from batch1;
select ok(:follow_id < :play_id, 'accepted events get ids in key order (follow-1 < play-1), so concurrent batches cannot deadlock');

-- What was stored --------------------------------------------------------------------

select results_eq(
  format($$select client_event_id, kind, artist_id, payload, occurred_at, source, received_at = now(), coliseum_processed_at
           from public.passport_entries where user_id = %L order by client_event_id desc$$, :'fan'),
  format($$values ('play-1', 'audio.play', %1$L::uuid, '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 31000}'::jsonb,
                   '2026-11-20T07:00:00.123456Z'::timestamptz, 'app', true, null::timestamptz),
                  ('follow-1', 'social.follow', %1$L::uuid, '{}'::jsonb, now(), 'app', true, null)$$, :'artist'),
  'only the accepted events are stored, the first copy of a duplicate wins, occurred_at defaults to now'
);
select is(
  (select count(*) from public.passport_entries where user_id = :'fan' and client_event_id in ('play-2', 'play-3', 'spend-1')),
  0::bigint,
  'rejected events are never written to passport_entries'
);

-- Every rejection is recorded -----------------------------------------------------------

select results_eq(
  $$select code, user_id::text, source, kind, client_event_id, message from passport.rejections order by id$$,
  format($$values ('missing_field', %1$L, 'app', 'audio.play', 'play-2', 'payload.duration_ms is required for audio.play'),
                  ('event_too_large', %1$L, 'app', 'audio.play', 'play-3', 'the event is larger than 32768 bytes'),
                  ('invalid_event', null, null, null, null, 'an event must be a JSON object'),
                  ('forbidden_kind', %1$L, 'app', 'treasury.money_spent', 'spend-1',
                   'treasury.money_spent is not accepted from source app')$$, :'fan'),
  'each rejection is recorded with who, what and why'
);
select ok(
  (select bool_and(rejected_at = now()) from passport.rejections),
  'rejections are stamped with the time of the call'
);

-- Idempotent across calls ------------------------------------------------------------------

select is(
  passport.ingest(jsonb_build_array(
    jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'play-1',
                       'artist_id', :'artist'),
    jsonb_build_object('user_id', :'other_fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'play-1',
                       'artist_id', :'artist'))) -> 0,
  jsonb_build_object('status', 'duplicate', 'id', :play_id),
  'a client_event_id seen in an earlier call answers with the stored id, whatever the new content'
);
select is(
  (select count(*) from public.passport_entries where client_event_id = 'play-1' and user_id in (:'fan', :'other_fan')),
  2::bigint,
  'client_event_ids are per user: another user''s play-1 is a new event'
);
select is(
  (select kind from public.passport_entries where id = :play_id),
  'audio.play',
  'the stored event is the first one, never replaced'
);

-- The envelope, as the edge checks it, for direct callers -----------------------------------

select results_eq(
  format($$select r ->> 'code', r ->> 'message' from jsonb_array_elements(passport.ingest(%L::jsonb)) as r$$,
    jsonb_build_array(
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'x', 'sent_at', 'now'),
      jsonb_build_object('source', 'app'),
      jsonb_build_object('user_id', 'nope'),
      jsonb_build_object('user_id', :'fan'),
      jsonb_build_object('user_id', :'fan', 'source', 'bank'),
      jsonb_build_object('user_id', :'fan', 'source', 'app'),
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 7),
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow'),
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', repeat('x', 201)),
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'x', 'occurred_at', '2026-11-22'),
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'x', 'artist_id', 'nope'),
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'x', 'artist_id', :'artist',
                         'payload', '[]'::jsonb),
      jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'x', 'artist_id', :'artist',
                         'occurred_at', to_char(now() at time zone 'UTC' + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    )),
  $$values ('unknown_field', 'sent_at is not an event field'),
           ('missing_field', 'user_id is required'),
           ('invalid_field', 'user_id must be a UUID'),
           ('missing_field', 'source is required'),
           ('invalid_field', 'source must be one of app, treasury, concierto, companon, system'),
           ('missing_field', 'kind is required'),
           ('invalid_field', 'kind must be a string'),
           ('missing_field', 'client_event_id is required'),
           ('invalid_field', 'client_event_id must be a string of 1 to 200 characters'),
           ('invalid_field', 'occurred_at must be an RFC 3339 timestamp'),
           ('invalid_field', 'artist_id must be a UUID'),
           ('invalid_field', 'payload must be a JSON object'),
           ('occurred_in_future', 'occurred_at is more than 5 minutes in the future')$$,
  'envelope problems are answered in the edge''s order and words'
);

select throws_ok(
  $$select passport.ingest('{"events": []}')$$,
  '22023', 'passport.ingest expects a JSON array of events',
  'ingest takes an array'
);
select throws_ok(
  format('select passport.ingest(%L)', (select jsonb_agg('{}'::jsonb) from generate_series(1, 501))),
  '54000', 'passport.ingest takes at most 500 events per call, got 501',
  'ingest takes at most 500 events'
);
select is(passport.ingest('[]'), '[]'::jsonb, 'an empty batch is an empty answer');

set local role service_role;
select is(
  passport.ingest(jsonb_build_array(jsonb_build_object(
    'user_id', :'fan', 'source', 'system', 'kind', 'badge.earned', 'client_event_id', 'badge-1',
    'payload', jsonb_build_object('badge', 'early-listener')))) -> 0 ->> 'status',
  'accepted',
  'service_role may call ingest'
);
reset role;

-- passport.log -------------------------------------------------------------------------------

create function pg_temp.failure(query text) returns text[] language plpgsql as $$
declare
  state text;
  message text;
  detail text;
begin
  execute query;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail;
  return array[state, message, detail];
end
$$;

select passport.log(:'fan', 'treasury.money_spent', 'payment-1',
  '{"payment_id": "pi_1", "amount_minor": 1500, "currency": "EUR", "product_type": "ticket"}', source => 'treasury') as spend_id \gset

select ok(:spend_id > :follow_id, 'log returns the new entry''s id');
select is(
  passport.log(:'fan', 'treasury.money_spent', 'payment-1',
    '{"payment_id": "pi_1", "amount_minor": 1500, "currency": "EUR", "product_type": "ticket"}', source => 'treasury'),
  :spend_id::bigint,
  'logging the same client_event_id again returns the stored id'
);
select is(
  passport.log(:'fan', 'audio.play', 'play-1', '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 31000}',
               artist_id => :'artist', source => 'app'),
  :play_id::bigint,
  'log and ingest share one key space'
);
select is(
  (select array[source, payload ->> 'currency'] from public.passport_entries where id = :spend_id),
  array['treasury', 'EUR'],
  'log stores what it was given'
);
select is(
  pg_temp.failure(format($$select passport.log(%L, 'treasury.money_spent', 'payment-2',
    '{"payment_id": "pi_2", "amount_minor": 1500, "currency": "EUR"}', source => 'treasury')$$, :'fan')),
  array['22023', 'payload.product_type is required for treasury.money_spent', 'missing_field'],
  'an invalid event raises 22023 with the message, and the code in DETAIL'
);
select is(
  pg_temp.failure(format($$select passport.log(%L, 'badge.earned', 'badge-2', '{"badge": "x"}')$$, :'fan')) ,
  null,
  'log''s source defaults to system'
);
select is(
  pg_temp.failure(format($$select passport.log(%L, 'audio.play', 'play-9', '{}', source => 'bank')$$, :'fan')),
  array['22023', 'source must be one of app, treasury, concierto, companon, system', 'invalid_field'],
  'log checks the source'
);
select is(
  pg_temp.failure($$select passport.log(null, 'badge.earned', 'badge-3', '{"badge": "x"}')$$),
  array['22023', 'user_id is required', 'missing_field'],
  'log needs a user'
);

-- Inside the producer's transaction: it goes when that transaction goes.
savepoint producer;
select passport.log(:'fan', 'badge.earned', 'badge-rolled-back', '{"badge": "x"}') as rolled_back_id \gset
rollback to savepoint producer;
select is(
  (select count(*) from public.passport_entries where user_id = :'fan' and client_event_id = 'badge-rolled-back'),
  0::bigint,
  'an event logged in a transaction that rolls back is not kept'
);

select is(
  (select count(*) from passport.rejections where client_event_id like 'payment-%' or client_event_id like 'badge-%'),
  0::bigint,
  'log records nothing in passport.rejections (its caller''s transaction fails)'
);

-- Retention of rejections --------------------------------------------------------------------

delete from passport.rejections;
insert into passport.rejections (rejected_at, code, message)
select now() - interval '31 days', 'unknown_kind', 'old ' || g from generate_series(1, 3) as g;
insert into passport.rejections (rejected_at, code, message)
select now() - interval '1 hour' + g * interval '1 second', 'unknown_kind', 'recent ' || g from generate_series(1, 5) as g;

select is(passport_private.prune_rejections(), 3::bigint, 'rejections older than 30 days are pruned');
select is(passport_private.prune_rejections(max_rows => 2), 3::bigint, 'beyond the row cap, the oldest go');
select results_eq(
  'select message from passport.rejections order by id',
  $$values ('recent 4'), ('recent 5')$$,
  'the newest rejections stay'
);

select * from finish();
rollback;
