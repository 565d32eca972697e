-- Passport limits (passport.limits): the rate limits of passport.ingest per user (requests and
-- events) and of anonymous requests per address, their SQLSTATE PT429 with the seconds to wait, the
-- service role's exemption, the cap on recorded rejections, and the lower bounds of occurred_at.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(47);

select gen_random_uuid() as fan, gen_random_uuid() as flooder, gen_random_uuid() as other, gen_random_uuid() as artist \gset

-- What a statement raised: 'SQLSTATE message | DETAIL', or 'no error'. Run as `role` with `sub`'s
-- claims; the statement's work is rolled back when it raises.
create function pg_temp.refusal(statement text, role text, sub uuid)
returns text
language plpgsql
as $$
declare
  state text;
  message text;
  detail text;
begin
  perform set_config('request.jwt.claims', json_build_object('sub', sub, 'role', role)::text, true);
  perform set_config('role', role, true);
  execute statement;
  perform set_config('role', 'none', true);
  return 'no error';
exception when others then
  get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail;
  perform set_config('role', 'none', true);
  return state || ' ' || message || ' | ' || coalesce(detail, '');
end
$$;

-- What a statement (one jsonb value) answered, run as `role` with `sub`'s claims.
create function pg_temp.answer(statement text, role text, sub uuid)
returns jsonb
language plpgsql
as $$
declare
  result jsonb;
begin
  perform set_config('request.jwt.claims', json_build_object('sub', sub, 'role', role)::text, true);
  perform set_config('role', role, true);
  execute statement into result;
  perform set_config('role', 'none', true);
  return result;
end
$$;

-- One batch of `n` follows by `who` as JSON text, client_event_ids `<tag>-1` .. `<tag>-n`.
create function pg_temp.follows(who uuid, tag text, n integer, artist uuid)
returns text
language sql
as $$
  select format('select passport.ingest(%L::jsonb)', jsonb_agg(jsonb_build_object(
    'user_id', who, 'source', 'app', 'kind', 'social.follow', 'client_event_id', tag || '-' || i, 'artist_id', artist)))
  from generate_series(1, n) as i
$$;

-- The settings ------------------------------------------------------------------------------------

select results_eq(
  $$select user_requests_burst, user_requests_per_minute, user_events_burst, user_events_per_minute,
           address_requests_burst, address_requests_per_minute, rejections_kept_per_minute,
           platform_start, app_backdate_days from passport.limits$$,
  $$values (60, 30, 3000, 60, 60, 60, 20, '2024-01-01 00:00:00+00'::timestamptz, 30)$$,
  'passport.limits holds one row with the documented defaults');

select throws_ok($$insert into passport.limits default values$$, '23505', null, 'there is only one row of limits');
select throws_ok($$update passport.limits set user_events_burst = 499$$, '23514', null,
                 'the event burst holds at least one full batch (500)');

select is(pg_temp.refusal($$update passport.limits set user_requests_burst = 60$$, 'service_role', null), 'no error',
          'the service role changes the limits');
select matches(pg_temp.refusal($$select * from passport.limits$$, 'authenticated', :'fan'), '^42501 ',
               'a user cannot read the limits');
select matches(pg_temp.refusal($$select * from passport.rejection_tallies$$, 'authenticated', :'fan'), '^42501 ',
               'a user cannot read the rejection tallies');
select is(pg_temp.refusal($$select * from passport.rejection_tallies$$, 'service_role', null), 'no error',
          'the service role reads the rejection tallies');

-- Small limits, for the rest of the test: the refill (1 a minute) cannot change an answer here.
update passport.limits set user_requests_burst = 3, user_requests_per_minute = 1,
                           user_events_burst = 500, user_events_per_minute = 1,
                           address_requests_burst = 2, address_requests_per_minute = 1,
                           rejections_kept_per_minute = 2;

-- Requests per user -------------------------------------------------------------------------------

select is(pg_temp.refusal(pg_temp.follows(:'fan', 'a', 1, :'artist'), 'authenticated', :'fan'), 'no error', 'request 1 of the burst');
select is(pg_temp.refusal(pg_temp.follows(:'fan', 'b', 1, :'artist'), 'authenticated', :'fan'), 'no error', 'request 2 of the burst');
select is(pg_temp.refusal(pg_temp.follows(:'fan', 'c', 1, :'artist'), 'authenticated', :'fan'), 'no error', 'request 3 of the burst');

select pg_temp.refusal(pg_temp.follows(:'fan', 'd', 1, :'artist'), 'authenticated', :'fan') as over \gset
select matches(:'over'::text,
  '^PT429 rate limited: a user may send 3 requests at once and 1 a minute; retry in [0-9]+ s \| [0-9]+$',
  'the request beyond the burst raises PT429 naming the limit');
select ok(split_part(:'over'::text, '| ', 2)::int between 1 and 60,
          'DETAIL is the whole seconds until one request is refilled (at most a minute at 1 a minute)');
select is(split_part(:'over'::text, '| ', 2), substring(:'over'::text from 'retry in ([0-9]+) s'), 'the message names the same wait');

select is((select count(*)::int from public.passport_entries where user_id = :'fan'), 3,
          'nothing of the refused request was stored');
select is((select count(*)::int from passport.rejections where user_id = :'fan'), 0,
          'a refused request is not an event rejection');

-- The service role is not limited, for this user or any.
select is(pg_temp.refusal(pg_temp.follows(:'fan', 's1', 1, :'artist'), 'service_role', null), 'no error',
          'the service role logs for a user over their limit');
select is(pg_temp.refusal(pg_temp.follows(:'fan', 's2', 500, :'artist'), 'service_role', null), 'no error',
          'the service role sends full batches without limit');
select is((select count(*)::int from public.passport_entries where user_id = :'fan'), 504,
          'the service role''s events were stored');

-- A signed-in call without a user is refused before any bucket.
select matches(pg_temp.refusal($$select passport.ingest('[]')$$, 'authenticated', null),
               '^42501 passport.ingest needs a signed-in user or the service role',
               'an authenticated call without sub is refused');

-- Events per user, and the cap on recorded rejections ---------------------------------------------

select passport.ingest(jsonb_agg(jsonb_build_object('user_id', :'flooder', 'source', 'app', 'kind', 'audio.plya',
                                                     'client_event_id', 'junk-' || i)))::text as ignored
from generate_series(1, 3) as i \gset

select is(pg_temp.refusal(format(
  'select passport.ingest(%L::jsonb)',
  (select jsonb_agg(jsonb_build_object('user_id', :'flooder', 'source', 'app', 'kind', 'audio.plya', 'client_event_id', 'bad-' || i))
   from generate_series(1, 497) as i)), 'authenticated', :'flooder'), 'no error',
  '497 events (all refused) fit the user''s 500 events');

select matches(pg_temp.refusal(pg_temp.follows(:'flooder', 'f', 4, :'artist'), 'authenticated', :'flooder'),
  '^PT429 rate limited: a user may send 500 events at once and 1 a minute; retry in [0-9]+ s \| [0-9]+$',
  'four more events are beyond the event burst: PT429 naming the event limit');
select ok(split_part(pg_temp.refusal(pg_temp.follows(:'flooder', 'f', 4, :'artist'), 'authenticated', :'flooder'), '| ', 2)::int
          -- 4 events needed, 3 left (500 - 497) plus a little refill: less than one event is missing.
          between 1 and 60, 'the wait is what the missing event needs at 1 a minute');
select is(pg_temp.refusal(pg_temp.follows(:'flooder', 'g', 3, :'artist'), 'authenticated', :'flooder'), 'no error',
          'three events still fit');

select is((select count(*)::int from passport.rejections where user_id = :'flooder'), 2,
          'of 500 rejections in a minute (3 as postgres, 497 as the user), 2 rows are kept');
select results_eq(
  format($$select rejected, kept, codes from passport.rejection_tallies where user_id = %L$$, :'flooder'),
  $$values (500::bigint, 2, '{"unknown_kind": 500}'::jsonb)$$,
  'the tally counts them all, by code');
select results_eq(
  format($$select client_event_id from passport.rejections where user_id = %L order by id$$, :'flooder'),
  $$values ('junk-1'), ('junk-2')$$,
  'the rows kept are the first ones of the minute');
select is((select minute from passport.rejection_tallies where user_id = :'flooder'), date_trunc('minute', now()),
          'the tally is per minute');

-- More rejections of another user in the same batch of the service role: counted each on its own.
select passport.ingest(jsonb_build_array(
  jsonb_build_object('user_id', :'other', 'source', 'app', 'kind', 'audio.plya', 'client_event_id', 'o-1'),
  jsonb_build_object('user_id', :'flooder', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'o-2'),
  jsonb_build_object('user_id', 'not-a-uuid', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'o-3'),
  jsonb_build_object('user_id', :'other', 'source', 'app', 'kind', 'audio.plya', 'client_event_id', 'o-4'),
  jsonb_build_object('user_id', :'other', 'source', 'app', 'kind', 'audio.plya', 'client_event_id', 'o-5')))::text as ignored \gset
select results_eq(
  format($$select user_id::text, rejected, kept, codes from passport.rejection_tallies
           where user_id in (%L, %L, '00000000-0000-0000-0000-000000000000')
             and minute = date_trunc('minute', now()) order by user_id$$, :'flooder', :'other'),
  format($$select * from (values ('00000000-0000-0000-0000-000000000000', 1::bigint, 1, '{"invalid_field": 1}'::jsonb),
                                 (%L, 501::bigint, 2, '{"unknown_kind": 500, "artist_required": 1}'::jsonb),
                                 (%L, 3::bigint, 2, '{"unknown_kind": 3}'::jsonb)) as v order by 1$$, :'flooder', :'other'),
  'each user''s tally grows, codes merge, an event without a valid user counts under the nil UUID');
select is((select count(*)::int from passport.rejections where client_event_id like 'o-%'), 3,
          'the flooder''s cap was already reached; the other user''s first 2 and the nil user''s 1 are kept');

-- Anonymous requests per address ------------------------------------------------------------------

select is(pg_temp.refusal($$select passport.admit_anonymous('198.51.100.7')$$, 'service_role', null), 'no error', 'anonymous request 1 of an address');
select is(pg_temp.refusal($$select passport.admit_anonymous('198.51.100.7')$$, 'service_role', null), 'no error', 'anonymous request 2 of an address');
select matches(pg_temp.refusal($$select passport.admit_anonymous('198.51.100.7')$$, 'service_role', null),
  '^PT429 rate limited: one address may send 2 anonymous requests at once and 1 a minute; retry in [0-9]+ s \| [0-9]+$',
  'the third is refused with PT429');
select is(pg_temp.refusal($$select passport.admit_anonymous('198.51.100.8')$$, 'service_role', null), 'no error',
          'another address has its own bucket');
select is(pg_temp.refusal($$select passport.admit_anonymous(null)$$, 'service_role', null), 'no error',
          'no address counts too');
select ok(exists (select 1 from passport_private.address_buckets where address = 'unknown'), 'under ''unknown''');
select matches(pg_temp.refusal($$select passport.admit_anonymous('198.51.100.9')$$, 'anon', null), '^42501 ',
               'anon cannot spend an address''s requests itself');
select matches(pg_temp.refusal($$select passport.admit_anonymous('198.51.100.9')$$, 'authenticated', :'fan'), '^42501 ',
               'nor can a user');

-- Pruning: a bucket that would be full again carries nothing -----------------------------------------

insert into passport_private.address_buckets (address, requests, refilled_at) values ('192.0.2.1', 0, now() - interval '1 hour');
select ok(passport_private.prune_limits() >= 1, 'prune_limits drops buckets that have refilled');
select ok(not exists (select 1 from passport_private.address_buckets where address = '192.0.2.1'), 'the refilled one went');
select ok(exists (select 1 from passport_private.address_buckets where address = '198.51.100.7'), 'a drained one stays');
select ok(exists (select 1 from passport_private.user_buckets where user_id = :'fan'), 'so does a drained user''s');
insert into passport_private.address_buckets (address, requests, refilled_at) values ('192.0.2.2', 1.5, now() - interval '1 hour');
select passport_private.prune_rejections() as ignored \gset
select ok(not exists (select 1 from passport_private.address_buckets where address = '192.0.2.2'),
          'the pg_cron job''s prune_rejections prunes the buckets too');

-- The lower bounds of occurred_at -----------------------------------------------------------------

select results_eq(
  format($$select code, message from passport.check_event('social.follow', 'app', %L, '{}', '2023-12-31T23:59:59Z', now())$$, :'artist'),
  $$values ('occurred_before_platform', 'occurred_at is before 2024-01-01T00:00:00Z, when the platform started')$$,
  'before the platform existed: refused, for the service role too');
select is(
  pg_temp.refusal(format($$select passport.log(%L, 'social.follow', 'old-1', '{}', %L, '1970-01-01T00:00:00Z', 'system')$$, :'fan', :'artist'),
                  'service_role', null),
  '22023 occurred_at is before 2024-01-01T00:00:00Z, when the platform started | occurred_before_platform',
  'passport.log refuses it too');

select is(
  (select code from passport.check_event('social.follow', 'app', :'artist', '{}', now() - interval '31 days', now())),
  null, 'the service role (here postgres) may backfill beyond 30 days');

select is(
  (select jsonb_agg((pg_temp.answer(format('select passport.ingest(%L::jsonb)', jsonb_build_array(jsonb_build_object(
     'user_id', :'other', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'old-' || d, 'artist_id', :'artist',
     'occurred_at', to_char((now() - make_interval(days => d)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))),
     'authenticated', :'other') -> 0) - 'id' order by d)
   from (values (29), (31)) as v(d)),
  '[{"status": "accepted"},
    {"status": "rejected", "code": "occurred_too_long_ago", "message": "occurred_at is more than 30 days before the event was sent"}]'::jsonb,
  'a user''s event 29 days old is accepted, one 31 days old refused with its own code');

update passport.limits set platform_start = '2025-06-01', app_backdate_days = 400;
select results_eq(
  format($$select code, message from passport.check_event('social.follow', 'app', %L, '{}', '2025-05-31T00:00:00Z', now())$$, :'artist'),
  $$values ('occurred_before_platform', 'occurred_at is before 2025-06-01T00:00:00Z, when the platform started')$$,
  'the floor is a setting, named in the message');

select * from finish();
rollback;
