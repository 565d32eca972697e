-- Passport: passport_entries is append-only for every role. Only
-- coliseum_processed_at may change, and only its owner's code path (postgres,
-- or a role later granted UPDATE) can change it.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(30);

select gen_random_uuid() as fan \gset
select passport.log(:'fan', 'social.follow', 'append-only-1',
                    artist_id => 'b0000000-0000-4000-8000-000000000001', source => 'app') as id \gset

-- postgres, a superuser here: the triggers refuse ------------------------------------

select throws_ok(
  format($$update public.passport_entries set payload = '{"city": "Lagos"}' where id = %s$$, :id),
  '42501', 'passport_entries is append-only: UPDATE is refused',
  'postgres cannot UPDATE the payload'
);
select throws_ok(
  format($$update public.passport_entries set occurred_at = occurred_at - interval '1 day' where id = %s$$, :id),
  '42501', 'passport_entries is append-only: UPDATE is refused',
  'postgres cannot UPDATE occurred_at'
);
select throws_ok(
  format($$update public.passport_entries set coliseum_processed_at = now(), kind = 'social.unfollow' where id = %s$$, :id),
  '42501', 'passport_entries is append-only: UPDATE is refused',
  'postgres cannot UPDATE another column together with the processing mark'
);
select throws_ok(
  format($$delete from public.passport_entries where id = %s$$, :id),
  '42501', 'passport_entries is append-only: DELETE is refused',
  'postgres cannot DELETE'
);
select throws_ok(
  'delete from public.passport_entries where false',
  '42501', 'passport_entries is append-only: DELETE is refused',
  'any DELETE statement is refused, even one that matches nothing'
);
select throws_ok(
  'truncate public.passport_entries',
  '42501', 'passport_entries is append-only: TRUNCATE is refused',
  'postgres cannot TRUNCATE'
);

-- Replica mode skips ordinary triggers; these are ENABLE ALWAYS. Setting it
-- takes a superuser or a grant (the local stand-in's postgres is a superuser).
select rolsuper or has_parameter_privilege('session_replication_role', 'SET') as may_replicate
from pg_roles where rolname = current_user \gset
\if :may_replicate
set local session_replication_role = replica;
select throws_ok(
  format($$update public.passport_entries set payload = '{"city": "Lagos"}' where id = %s$$, :id),
  '42501', 'passport_entries is append-only: UPDATE is refused',
  'UPDATE is refused in replica mode'
);
select throws_ok(
  format($$delete from public.passport_entries where id = %s$$, :id),
  '42501', 'passport_entries is append-only: DELETE is refused',
  'DELETE is refused in replica mode'
);
select throws_ok(
  'truncate public.passport_entries',
  '42501', 'passport_entries is append-only: TRUNCATE is refused',
  'TRUNCATE is refused in replica mode'
);
reset session_replication_role;
\else
select skip('this role may not set session_replication_role', 3);
\endif

-- The processor's mark ---------------------------------------------------------------

select lives_ok(
  format($$update public.passport_entries set coliseum_processed_at = '2026-11-22T10:00:00Z' where id = %s$$, :id),
  'the processing mark may be set'
);
select is(
  (select coliseum_processed_at from public.passport_entries where id = :id),
  '2026-11-22T10:00:00Z'::timestamptz,
  'the processing mark was stored'
);
select is(
  (select array_agg(a.attname::text order by a.attname)
   from pg_trigger as t
   join pg_attribute as a on a.attrelid = t.tgrelid and a.attnum = any (t.tgattr::int2[])
   where t.tgrelid = 'public.passport_entries'::regclass and t.tgname = 'passport_entries_append_only_update'),
  (select array_agg(a.attname::text order by a.attname)
   from pg_attribute as a
   where a.attrelid = 'public.passport_entries'::regclass and a.attnum > 0 and not a.attisdropped
     and a.attname <> 'coliseum_processed_at'),
  'the UPDATE guard watches every column but coliseum_processed_at'
);
select lives_ok(
  format($$update public.passport_entries set coliseum_processed_at = null where id = %s$$, :id),
  'the processing mark may be cleared for a rebuild'
);
select lives_ok(
  format($$update public.passport_entries set payload = payload where id = %s$$, :id),
  'an UPDATE that changes nothing is harmless'
);
select is(
  (select count(*) from public.passport_entries where id = :id and payload = '{}' and kind = 'social.follow'),
  1::bigint,
  'the entry is as it was logged'
);

-- The API roles hold no write privilege at all -------------------------------------------

set local role service_role;
select throws_ok(
  format($$update public.passport_entries set coliseum_processed_at = now() where id = %s$$, :id),
  '42501', 'permission denied for table passport_entries',
  'service_role cannot UPDATE, not even the mark'
);
select throws_ok(
  format($$delete from public.passport_entries where id = %s$$, :id),
  '42501', 'permission denied for table passport_entries',
  'service_role cannot DELETE'
);
select throws_ok(
  'truncate public.passport_entries',
  '42501', 'permission denied for table passport_entries',
  'service_role cannot TRUNCATE'
);
select throws_ok(
  $$insert into public.passport_entries (user_id, kind, occurred_at, client_event_id, source)
    values (gen_random_uuid(), 'profile.updated', now(), 'direct', 'app')$$,
  '42501', 'permission denied for table passport_entries',
  'service_role cannot INSERT around the validation'
);
reset role;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select throws_ok(
  format($$update public.passport_entries set payload = '{"city": "Lagos"}' where id = %s$$, :id),
  '42501', 'permission denied for table passport_entries',
  'the owner cannot UPDATE their entry'
);
select throws_ok(
  format($$delete from public.passport_entries where id = %s$$, :id),
  '42501', 'permission denied for table passport_entries',
  'the owner cannot DELETE their entry'
);
select throws_ok(
  'truncate public.passport_entries',
  '42501', 'permission denied for table passport_entries',
  'authenticated cannot TRUNCATE'
);
select throws_ok(
  $$insert into public.passport_entries (user_id, kind, occurred_at, client_event_id, source)
    values (gen_random_uuid(), 'profile.updated', now(), 'direct', 'app')$$,
  '42501', 'permission denied for table passport_entries',
  'authenticated cannot INSERT'
);
select throws_ok(
  $$select passport.ingest(jsonb_build_array(jsonb_build_object(
    'user_id', gen_random_uuid(), 'source', 'app', 'kind', 'profile.updated', 'client_event_id', 'direct')))$$,
  '42501', 'a signed-in user logs only their own events, with source "app"',
  'authenticated cannot ingest for another user'
);
select throws_ok(
  $$select passport.log(gen_random_uuid(), 'profile.updated', 'x', source => 'app')$$,
  '42501', 'permission denied for function log',
  'authenticated cannot call log'
);
reset role;

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok(
  format($$update public.passport_entries set payload = '{"city": "Lagos"}' where id = %s$$, :id),
  '42501', 'permission denied for table passport_entries',
  'anon cannot UPDATE'
);
select throws_ok(
  format($$delete from public.passport_entries where id = %s$$, :id),
  '42501', 'permission denied for table passport_entries',
  'anon cannot DELETE'
);
select throws_ok(
  'truncate public.passport_entries',
  '42501', 'permission denied for table passport_entries',
  'anon cannot TRUNCATE'
);
select throws_ok(
  $$insert into public.passport_entries (user_id, kind, occurred_at, client_event_id, source)
    values (gen_random_uuid(), 'profile.updated', now(), 'direct', 'app')$$,
  '42501', 'permission denied for table passport_entries',
  'anon cannot INSERT'
);
reset role;

select is(
  (select count(*) from public.passport_entries where id = :id and payload = '{}' and kind = 'social.follow'),
  1::bigint,
  'after every attempt the entry is still there, unchanged'
);

select * from finish();
rollback;
