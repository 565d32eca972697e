-- Passport: schemas, tables, indexes, triggers, privileges and the cron job.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(51);

-- Schemas ---------------------------------------------------------------------

select has_schema(s)
from unnest(array['passport', 'coliseum', 'treasury', 'concierto', 'companon',
                  'passport_private', 'coliseum_private', 'treasury_private', 'concierto_private', 'companon_private']) as s;

select is(
  (select array_agg(r || ' on ' || s order by r, s)
   from unnest(array['anon', 'authenticated', 'service_role']) as r,
        unnest(array['passport', 'coliseum', 'treasury', 'concierto', 'companon']) as s
   where not has_schema_privilege(r, s, 'USAGE')),
  null,
  'the API roles may use every system schema'
);

select is(
  (select array_agg(r || ' on ' || s order by r, s)
   from unnest(array['anon', 'authenticated', 'service_role']) as r,
        unnest(array['passport_private', 'coliseum_private', 'treasury_private', 'concierto_private', 'companon_private']) as s
   where has_schema_privilege(r, s, 'USAGE')),
  null,
  'no API role may use a _private schema'
);

select has_extension('pg_cron');

-- Tables ----------------------------------------------------------------------

select results_eq(
  $$select column_name::text collate "default", data_type::text collate "default",
           is_nullable::text collate "default", column_default::text collate "default"
    from information_schema.columns
    where table_schema = 'public' and table_name = 'passport_entries'
    order by ordinal_position$$,
  $$values ('id', 'bigint', 'NO', null),
           ('user_id', 'uuid', 'NO', null),
           ('kind', 'text', 'NO', null),
           ('artist_id', 'uuid', 'YES', null),
           ('payload', 'jsonb', 'NO', '''{}''::jsonb'),
           ('occurred_at', 'timestamp with time zone', 'NO', null),
           ('received_at', 'timestamp with time zone', 'NO', 'now()'),
           ('client_event_id', 'text', 'NO', null),
           ('source', 'text', 'NO', null),
           ('coliseum_processed_at', 'timestamp with time zone', 'YES', null)$$,
  'passport_entries has the agreed columns'
);

select is(
  (select attidentity::text from pg_attribute where attrelid = 'public.passport_entries'::regclass and attname = 'id'),
  'a',
  'passport_entries.id is generated always as identity'
);

select fk_ok('public', 'passport_entries', 'kind', 'passport', 'event_kinds', 'name');

select results_eq(
  $$select column_name::text collate "default", data_type::text collate "default", is_nullable::text collate "default"
    from information_schema.columns
    where table_schema = 'passport' and table_name = 'event_kinds'
    order by ordinal_position$$,
  $$values ('name', 'text', 'NO'), ('family', 'text', 'NO'), ('description', 'text', 'NO'),
           ('domains', 'ARRAY', 'NO'), ('tier', 'smallint', 'NO'), ('weight', 'double precision', 'NO'),
           ('needs_artist', 'boolean', 'NO'), ('producers', 'ARRAY', 'NO'), ('fields', 'jsonb', 'NO'),
           ('dna_threshold_field', 'text', 'YES'), ('dna_threshold_min', 'bigint', 'YES')$$,
  'event_kinds has the columns the generated catalog migration fills'
);

select ok((select count(*) >= 40 from passport.event_kinds), 'the catalog holds 40+ kinds');

select has_table('passport', 'rejections', 'passport.rejections exists');

-- Indexes -----------------------------------------------------------------------

select is(
  pg_get_indexdef('public.passport_entries_timeline_idx'::regclass),
  'CREATE INDEX passport_entries_timeline_idx ON ONLY public.passport_entries USING btree (user_id, occurred_at DESC, id DESC)',
  'the timeline index serves newest-first keyset pages per user'
);
select is(
  pg_get_indexdef('public.passport_entries_pending_idx'::regclass),
  'CREATE INDEX passport_entries_pending_idx ON ONLY public.passport_entries USING btree (id) WHERE (coliseum_processed_at IS NULL)',
  'the pending index holds only unprocessed entries'
);
select is(
  pg_get_indexdef('passport_private.entry_keys_pkey'::regclass),
  'CREATE UNIQUE INDEX entry_keys_pkey ON passport_private.entry_keys USING btree (user_id, client_event_id)',
  '(user_id, client_event_id) is unique, in the unpartitioned key table (passport_partitions.test.sql)'
);
select is(
  pg_get_indexdef('passport.rejections_rejected_at_idx'::regclass),
  'CREATE INDEX rejections_rejected_at_idx ON passport.rejections USING btree (rejected_at)',
  'rejections are indexed by age for pruning'
);

-- Append-only triggers fire for every session, replica mode included -------------

select results_eq(
  $$select tgname::text collate "default", tgenabled::text collate "default"
    from pg_trigger where tgrelid = 'public.passport_entries'::regclass and not tgisinternal
    order by tgname$$,
  $$values ('passport_entries_append_only_delete', 'A'), ('passport_entries_append_only_delete_rows', 'A'),
           ('passport_entries_append_only_update', 'A'), ('passport_entries_companon_measure', 'O'),
           ('passport_entries_exactly_once', 'O')$$,
  'the append-only triggers are ENABLE ALWAYS; Companon''s queue and the key trigger are ordinary (a replica takes '
  'both the rows and their keys from its origin)'
);

-- Row level security and table privileges -----------------------------------------

select is(
  (select array_agg(c.oid::regclass::text order by 1) from pg_class as c
   where c.oid in ('public.passport_entries'::regclass, 'passport.event_kinds'::regclass, 'passport.rejections'::regclass)
     and not c.relrowsecurity),
  null,
  'RLS is on for passport_entries, event_kinds and rejections'
);
select policies_are('public', 'passport_entries', array['passport_entries_owner_reads']);
select policy_roles_are('public', 'passport_entries', 'passport_entries_owner_reads', array['authenticated']);
select policy_cmd_is('public'::name, 'passport_entries'::name, 'passport_entries_owner_reads'::name, 'select'::text);
select policies_are('passport', 'rejections', array[]::name[]);

select table_privs_are('public', 'passport_entries', 'anon', array[]::text[]);
select table_privs_are('public', 'passport_entries', 'authenticated', array['SELECT']);
select table_privs_are('public', 'passport_entries', 'service_role', array['SELECT']);
select table_privs_are('passport', 'event_kinds', 'anon', array['SELECT']);
select table_privs_are('passport', 'event_kinds', 'authenticated', array['SELECT']);
select table_privs_are('passport', 'rejections', 'authenticated', array[]::text[]);
select table_privs_are('passport', 'rejections', 'service_role', array['SELECT']);
select is(
  (select array_agg(r order by r) from unnest(array['anon', 'authenticated', 'service_role']) as r
   where has_sequence_privilege(r, 'public.passport_entries_id_seq', 'USAGE')),
  null,
  'no API role may draw ids from the log''s sequence'
);

-- Function privileges ----------------------------------------------------------------

select function_privs_are('passport', 'ingest', array['jsonb'], 'service_role', array['EXECUTE']);
select function_privs_are('passport', 'ingest', array['jsonb'], 'authenticated', array['EXECUTE']);
select function_privs_are('passport', 'ingest', array['jsonb'], 'anon', array[]::text[]);
select function_privs_are('passport', 'log', array['uuid', 'text', 'text', 'jsonb', 'uuid', 'timestamp with time zone', 'text'],
                          'service_role', array['EXECUTE']);
select function_privs_are('passport', 'log', array['uuid', 'text', 'text', 'jsonb', 'uuid', 'timestamp with time zone', 'text'],
                          'authenticated', array[]::text[]);
select is(
  (select array_agg(r || ' ' || f order by r, f)
   from unnest(array['anon', 'authenticated', 'service_role']) as r,
        unnest(array['passport.check_event(text, text, uuid, jsonb, timestamptz, timestamptz)',
                     'passport.timeline(text[], timestamptz, timestamptz, uuid, int, timestamptz, bigint)']) as f
   where not has_function_privilege(r, f, 'EXECUTE')),
  null,
  'check_event and timeline are callable by every API role'
);
select is(
  (select array_agg(r || ' ' || p.oid::regprocedure::text order by 1)
   from pg_proc as p, unnest(array['anon', 'authenticated', 'service_role']) as r
   where p.pronamespace = 'passport_private'::regnamespace
     and has_function_privilege(r, p.oid, 'EXECUTE')),
  null,
  'nothing in passport_private is executable by an API role (nor by PUBLIC)'
);

-- A function created later in a system schema starts with no grant.
create function passport.probe_default_privileges() returns int language sql as 'select 1';
create function public.probe_default_privileges() returns int language sql as 'select 1';
select is(
  (select array_agg(r order by r) from unnest(array['anon', 'authenticated', 'service_role']) as r
   where has_function_privilege(r, 'passport.probe_default_privileges()', 'EXECUTE')),
  null,
  'new functions in the system schemas are not executable until granted'
);
select ok(
  has_function_privilege('authenticated', 'public.probe_default_privileges()', 'EXECUTE'),
  'new functions in public keep Supabase''s default grants'
);

select is(
  (select p.prosecdef and p.proconfig = array['search_path=""']
   from pg_proc as p where p.oid = 'passport.ingest(jsonb)'::regprocedure),
  true,
  'ingest is security definer with an empty search_path'
);
select is(
  (select p.prosecdef from pg_proc as p
   where p.oid = 'passport.timeline(text[], timestamptz, timestamptz, uuid, int, timestamptz, bigint)'::regprocedure),
  false,
  'timeline is security invoker: RLS decides'
);

-- The cron job ------------------------------------------------------------------------

select results_eq(
  $$select schedule, command, active from cron.job where jobname = 'passport-prune-rejections'$$,
  $$values ('*/10 * * * *'::text, 'select passport_private.prune_rejections()'::text, true)$$,
  'rejections are pruned every 10 minutes'
);

-- The catalog refuses rows check_event could not read -----------------------------------

select throws_ok(
  $$insert into passport.event_kinds (name, family, description, domains, tier, weight, needs_artist, producers, fields)
    values ('test.bad_field', 'test', 'x', '{}', 1, 0.1, false, '{app}', '[{"name": "n", "type": "text", "required": true}]')$$,
  '23514', null,
  'a field type outside the eight is refused'
);
select throws_ok(
  $$insert into passport.event_kinds (name, family, description, domains, tier, weight, needs_artist, producers, fields)
    values ('test.bad_weight', 'test', 'x', '{}', 2, 10, false, '{app}', '[]')$$,
  '23514', null,
  'a weight that is not the tier''s multiplier is refused'
);

select * from finish();
rollback;
