-- Passport aliases: the existing app's spellings (audio_play with artistId and trackId,
-- ticket.issued, ticket.validated) are checked and stored as the catalog's kinds, and
-- counted per alias, source and day in passport.alias_use.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(16);

select gen_random_uuid() as fan, gen_random_uuid() as artist, 'c0000000-0000-4000-8000-000000000001' as track,
       'c0000000-0000-4000-8000-000000000002' as event, 'c0000000-0000-4000-8000-000000000003' as ticket \gset

-- Only this test's counts and rejections.
delete from passport.alias_use where true;
delete from passport.rejections where true;

-- The table the generated migration fills ------------------------------------------------

select results_eq(
  $$select alias, kind, renames from passport.event_kind_aliases order by alias$$,
  $$values ('audio_play', 'audio.play', '{"artistId": "artist_id", "trackId": "track_id"}'::jsonb),
           ('ticket.issued', 'concierto.ticket_issued', '{}'::jsonb),
           ('ticket.validated', 'concierto.ticket_validated', '{}'::jsonb)$$,
  'the aliases of buckets_core::passport::ALIASES'
);
select ok(has_table_privilege('anon', 'passport.event_kind_aliases', 'SELECT')
          and not has_table_privilege('authenticated', 'passport.alias_use', 'SELECT')
          and has_table_privilege('service_role', 'passport.alias_use', 'SELECT')
          and not has_table_privilege('service_role', 'passport.alias_use', 'INSERT'),
          'anyone reads the aliases; only the service role reads the counts, nobody writes them');

-- passport.check_event ---------------------------------------------------------------------

select results_eq(
  format($$select c.code, c.message from (values
      (1, 'audio_play', null::uuid, jsonb_build_object('artistId', %1$L, 'trackId', %2$L, 'duration_ms', 31000)),
      (2, 'audio_play', null, jsonb_build_object('artistId', 'nope', 'trackId', %2$L, 'duration_ms', 31000)),
      (3, 'audio_play', null, jsonb_build_object('artistId', null, 'trackId', %2$L, 'duration_ms', 31000)),
      (4, 'audio_play', null, jsonb_build_object('trackId', %2$L, 'duration_ms', 31000)),
      (5, 'audio_play', %1$L::uuid, jsonb_build_object('artistId', %1$L, 'trackId', %2$L, 'duration_ms', 31000)),
      (6, 'audio_play', null, jsonb_build_object('artistId', %1$L, 'trackId', %2$L)),
      (7, 'audio_play', null, jsonb_build_object('artistId', %1$L, 'trackId', 5, 'duration_ms', 1)),
      (8, 'ticket.issued', null, '{}'::jsonb),
      (9, 'audio_plays', null, '{}'::jsonb)
    ) as e(i, kind, artist, payload)
    cross join lateral passport.check_event(e.kind, 'app', e.artist, e.payload) as c
    order by e.i$$, :'artist', :'track'),
  $$values (null, null),
           ('invalid_field', 'payload.artistId must be a UUID'),
           ('invalid_field', 'payload.artistId must be a UUID'),
           ('artist_required', 'audio.play needs artist_id'),
           ('unknown_field', 'payload.artistId is not a field of audio.play'),
           ('missing_field', 'payload.duration_ms is required for audio.play'),
           ('invalid_field', 'payload.track_id must be a UUID'),
           ('forbidden_kind', 'concierto.ticket_issued is not accepted from source app'),
           ('unknown_kind', 'unknown event kind "audio_plays"')$$,
  'check_event takes an alias as its kind, in buckets_core''s words'
);

-- passport.ingest ----------------------------------------------------------------------------

create temp table batch as
select passport.ingest(jsonb_build_array(
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio_play', 'client_event_id', 'old-1',
                     'payload', jsonb_build_object('artistId', :'artist', 'trackId', :'track', 'duration_ms', 31000)),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio_play', 'client_event_id', 'old-1',
                     'payload', jsonb_build_object('artistId', :'artist', 'trackId', :'track', 'duration_ms', 31000)),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio_play', 'client_event_id', 'old-2',
                     'payload', jsonb_build_object('artistId', 'nope', 'trackId', :'track', 'duration_ms', 31000)),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio_play', 'client_event_id', 'old-3',
                     'artist_id', :'artist', 'payload', jsonb_build_object('trackId', :'track')),
  jsonb_build_object('user_id', :'fan', 'source', 'concierto', 'kind', 'ticket.issued', 'client_event_id', 'old-4',
                     'payload', jsonb_build_object('event_id', :'event', 'ticket_id', :'ticket')),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio.play', 'client_event_id', 'new-1',
                     'artist_id', :'artist', 'payload', jsonb_build_object('track_id', :'track', 'duration_ms', 31000)),
  jsonb_build_object('rejected', jsonb_build_object('code', 'invalid_field', 'message', 'payload.artistId must be a UUID'),
                     'user_id', :'fan', 'source', 'app', 'kind', 'audio_play', 'client_event_id', 'old-5')
)) as r;

select (r -> 0 ->> 'id')::bigint as old1, (r -> 4 ->> 'id')::bigint as old4 from batch \gset

select results_eq(
  $$select x ->> 'status', x ->> 'message' from batch, jsonb_array_elements(r) as x$$,
  $$values ('accepted', null), ('duplicate', null),
           ('rejected', 'payload.artistId must be a UUID'),
           ('rejected', 'payload.duration_ms is required for audio.play'),
           ('accepted', null), ('accepted', null),
           ('rejected', 'payload.artistId must be a UUID')$$,
  'ingest answers alias events like events of their kind'
);
select results_eq(
  format($$select kind, artist_id, payload from public.passport_entries where id = %s$$, :old1),
  format($$values ('audio.play', %L::uuid, jsonb_build_object('track_id', %L, 'duration_ms', 31000))$$, :'artist', :'track'),
  'audio_play is stored as audio.play: artistId as artist_id, trackId as track_id'
);
select is((select kind from public.passport_entries where id = :old4), 'concierto.ticket_issued',
          'ticket.issued is stored as concierto.ticket_issued');
select is((select count(*) from public.passport_entries where user_id = :'fan' and kind not in (select name from passport.event_kinds)),
          0::bigint, 'no entry is stored under an alias');
select results_eq(
  $$select kind, client_event_id, code from passport.rejections order by id$$,
  $$values ('audio_play', 'old-2', 'invalid_field'), ('audio_play', 'old-3', 'missing_field'),
           ('audio_play', 'old-5', 'invalid_field')$$,
  'a rejection keeps the kind as it was sent'
);
select results_eq(
  $$select day, alias, source, kind, received, stored from passport.alias_use order by alias, source$$,
  $$values ((now() at time zone 'UTC')::date, 'audio_play', 'app', 'audio.play', 5::bigint, 1::bigint),
           ((now() at time zone 'UTC')::date, 'ticket.issued', 'concierto', 'concierto.ticket_issued', 1::bigint, 1::bigint)$$,
  'alias_use counts per day, alias and source the events received and stored (canonical spellings are not counted)'
);

-- A later batch adds to the day's row; a repeat is received, not stored.
select passport.ingest(jsonb_build_array(
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio_play', 'client_event_id', 'old-1',
                     'payload', jsonb_build_object('artistId', :'artist', 'trackId', :'track', 'duration_ms', 31000)),
  jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'audio_play', 'client_event_id', 'old-6',
                     'payload', jsonb_build_object('artistId', :'artist', 'trackId', :'track', 'duration_ms', 45000))
)) as second \gset
select is((select (received, stored)::text from passport.alias_use where alias = 'audio_play' and source = 'app'),
          '(7,2)', 'counts add up across calls; a duplicate is received but not stored');

-- passport.log -------------------------------------------------------------------------------

select passport.log(:'fan', 'ticket.validated', 'old-7', jsonb_build_object('event_id', :'event', 'ticket_id', :'ticket'),
                    null, now(), 'concierto') as old7 \gset
select is((select kind from public.passport_entries where id = :old7), 'concierto.ticket_validated',
          'passport.log stores an alias as its kind');
select passport.log(:'fan', 'audio_play', 'old-8', jsonb_build_object('artistId', :'artist', 'trackId', :'track', 'duration_ms', 40000),
                    null, now(), 'app') as old8 \gset
select results_eq(
  format($$select kind, artist_id, payload ->> 'track_id' from public.passport_entries where id = %s$$, :old8),
  format($$values ('audio.play', %L::uuid, %L)$$, :'artist', :'track'),
  'passport.log moves the renamed keys too'
);
select is(passport.log(:'fan', 'audio_play', 'old-8', jsonb_build_object('artistId', :'artist', 'trackId', :'track', 'duration_ms', 40000),
                       null, now(), 'app'),
          :old8::bigint, 'a repeat returns the stored id');
select is((select array_agg((alias, source, received, stored)::text order by alias, source) from passport.alias_use),
          array['(audio_play,app,9,3)', '(ticket.issued,concierto,1,1)', '(ticket.validated,concierto,1,1)'],
          'passport.log counts what it received and stored');
select throws_ok(
  format($$select passport.log(%L, 'audio_play', 'old-9', '{"artistId": "nope", "trackId": "x", "duration_ms": 1}', null, now(), 'app')$$, :'fan'),
  '22023', 'payload.artistId must be a UUID', 'passport.log refuses a bad alias event like any other');

-- What the app's roles see -------------------------------------------------------------------

set local role service_role;
select is((select sum(received) from passport.alias_use), 11::numeric, 'the service role reads the counts');
reset role;

select * from finish();
rollback;
