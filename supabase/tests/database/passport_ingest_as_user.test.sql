-- passport.ingest run as the signed-in user, as passport-log runs it (set local role authenticated
-- and the user's claims): a user logs only their own events, from the app.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(6);

select gen_random_uuid() as fan, gen_random_uuid() as other_fan, gen_random_uuid() as artist \gset

select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true);
set local role authenticated;

select is(
  passport.ingest(jsonb_build_array(
    jsonb_build_object('user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'own-1',
                       'artist_id', :'artist'))) -> 0 ->> 'status',
  'accepted',
  'a user logs their own event');

select throws_ok(
  format($$select passport.ingest(jsonb_build_array(
    jsonb_build_object('user_id', %L, 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'theirs-1',
                       'artist_id', %L)))$$, :'other_fan', :'artist'),
  '42501', 'a signed-in user logs only their own events, with source "app"',
  'another user''s event is refused, the whole batch');

select throws_ok(
  format($$select passport.ingest(jsonb_build_array(
    jsonb_build_object('user_id', %L, 'source', 'treasury', 'kind', 'social.follow', 'client_event_id', 'src-1',
                       'artist_id', %L)))$$, :'fan', :'artist'),
  '42501', null,
  'a server-side source is refused');

select throws_ok(
  $$select passport.ingest('["not an event"]'::jsonb)$$,
  '42501', null,
  'an event without its author is refused');

reset role;
select is(
  (select count(*)::int from public.passport_entries where user_id in (:'fan', :'other_fan')),
  1,
  'only the user''s own event was stored');

set local role anon;
select throws_ok(
  format($$select passport.ingest(jsonb_build_array(jsonb_build_object('user_id', %L)))$$, :'fan'),
  '42501', null,
  'anon may not call it');

select * from finish();
rollback;
