-- Coliseum DNA: tables, indexes, RLS, privileges, the append-only trigger, the
-- realtime publication and the cron jobs.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(31);

-- Tables ------------------------------------------------------------------------------

select results_eq(
  $$select column_name::text collate "default", data_type::text collate "default", is_nullable::text collate "default"
    from information_schema.columns
    where table_schema = 'public' and table_name = 'coliseum_dna_mutations'
    order by ordinal_position$$,
  $$values ('id', 'bigint', 'NO'), ('entry_id', 'bigint', 'NO'), ('artist_id', 'uuid', 'NO'), ('domain', 'text', 'NO'),
           ('fan_id', 'uuid', 'NO'), ('kind', 'text', 'NO'), ('occurred_at', 'timestamp with time zone', 'NO'),
           ('tier', 'smallint', 'NO'), ('weight', 'double precision', 'NO'), ('amount_usd_cents', 'bigint', 'YES'),
           ('genre', 'text', 'YES'), ('city', 'text', 'YES'), ('country', 'character', 'YES'),
           ('rules_version', 'integer', 'NO'), ('processed_at', 'timestamp with time zone', 'NO'), ('units', 'bigint', 'YES')$$,
  'coliseum_dna_mutations has the agreed columns'
);
select is(
  (select count(*) from pg_constraint where conrelid = 'public.coliseum_dna_mutations'::regclass and contype = 'f'
     and confrelid = 'public.passport_entries'::regclass),
  0::bigint, 'entry_id is no declared foreign key: the append-only log keeps every id valid');
select fk_ok('public', 'coliseum_dna_mutations', 'rules_version', 'coliseum', 'rules_versions', 'version');
select results_eq(
  $$select column_name::text collate "default", data_type::text collate "default"
    from information_schema.columns
    where table_schema = 'public' and table_name = 'coliseum_domain_strength'
    order by ordinal_position$$,
  $$values ('artist_id', 'uuid'), ('domain', 'text'), ('period', 'text'), ('score', 'double precision'),
           ('raw', 'double precision'), ('components', 'jsonb'), ('events', 'bigint'), ('fans', 'bigint'),
           ('computed_at', 'timestamp with time zone')$$,
  'coliseum_domain_strength has the agreed columns'
);
select col_is_pk('public', 'coliseum_domain_strength', array['artist_id', 'domain', 'period'], 'one strength row per artist, domain and period');
select col_is_pk('coliseum', 'strength_history', array['artist_id', 'domain', 'period', 'day'], 'one history row per day');
select col_is_pk('coliseum', 'fan_genres', array['fan_id', 'genre'], 'fan_genres is keyed by fan and genre');
select throws_ok(
  $$insert into public.coliseum_domain_strength values (gen_random_uuid(), 'X', '7d', 1, 1, '{}', 1, 1, now())$$,
  '23514', null, 'the domain is one of A, T, G, C, overall');
select throws_ok(
  $$insert into public.coliseum_domain_strength values (gen_random_uuid(), 'A', '1y', 1, 1, '{}', 1, 1, now())$$,
  '23514', null, 'the period is one of 7d, 30d, alltime');
select is((select description like 'Catalog tiers%30-day recency decay%30 s%' from coliseum.rules_versions where version = 1), true,
          'rules version 1: the catalog tiers, 30-day decay and the 30 s play threshold');
select results_eq(
  $$select count(*), count(*) filter (where minor_exponent = 0), bool_and(usd_per_unit > 0) from coliseum.currency_rates$$,
  $$values (14::bigint, 1::bigint, true)$$, '14 reference rates; JPY has no minor unit');

-- Indexes -----------------------------------------------------------------------------

select is(pg_get_indexdef('public.coliseum_dna_mutations_artist_idx'::regclass),
          'CREATE INDEX coliseum_dna_mutations_artist_idx ON ONLY public.coliseum_dna_mutations USING btree (artist_id, occurred_at)',
          'an artist''s mutations are read by (artist_id, occurred_at)');
select is(pg_get_indexdef('public.coliseum_dna_mutations_entry_domain_key'::regclass),
          'CREATE UNIQUE INDEX coliseum_dna_mutations_entry_domain_key ON ONLY public.coliseum_dna_mutations USING btree (entry_id, domain, occurred_at)',
          '(entry_id, domain) is unique: an entry is folded once (occurred_at, the partition key, is fixed by the entry)');
select is(pg_get_indexdef('public.coliseum_domain_strength_board_idx'::regclass),
          'CREATE INDEX coliseum_domain_strength_board_idx ON public.coliseum_domain_strength USING btree (domain, period, score DESC, artist_id)',
          'the boards read strengths by (domain, period, score desc, artist_id)');
select is(pg_get_indexdef('public.passport_entries_location_set_idx'::regclass),
          'CREATE INDEX passport_entries_location_set_idx ON ONLY public.passport_entries USING btree (user_id, id) WHERE (kind = ''profile.location_set''::text)',
          'a fan''s home as of an entry is one index probe');

-- RLS and privileges ------------------------------------------------------------------

select is(
  (select array_agg(c.oid::regclass::text order by c.oid::regclass::text) from pg_class as c
   where c.oid in ('public.coliseum_dna_mutations'::regclass, 'public.coliseum_domain_strength'::regclass,
                   'coliseum.rules_versions'::regclass, 'coliseum.currency_rates'::regclass, 'coliseum.fans'::regclass,
                   'coliseum.fan_genres'::regclass, 'coliseum.strength_history'::regclass, 'coliseum.notifications'::regclass)
     and not c.relrowsecurity),
  null, 'row level security is on for every Coliseum table');
select is(
  (select array_agg(r || ' ' || p || ' ' || t order by r, p, t)
   from unnest(array['anon', 'authenticated']) as r,
        unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p,
        unnest(array['public.coliseum_dna_mutations', 'public.coliseum_domain_strength', 'coliseum.fans', 'coliseum.fan_genres',
                     'coliseum.strength_history', 'coliseum.rules_versions', 'coliseum.currency_rates']) as t
   where has_table_privilege(r, t, p)),
  null, 'the app roles write no Coliseum table');
select is(
  (select array_agg(p order by p) from unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p
   where has_table_privilege('service_role', 'public.coliseum_dna_mutations', p)
      or has_table_privilege('service_role', 'public.coliseum_domain_strength', p)),
  null, 'service_role writes mutations and strengths only through the functions');
select ok(has_column_privilege('authenticated', 'coliseum.notifications', 'read_at', 'UPDATE')
          and not has_column_privilege('authenticated', 'coliseum.notifications', 'score', 'UPDATE'),
          'authenticated may update read_at of notifications, nothing else');
select is(
  (select array_agg(f || ' ' || r order by f, r)
   from unnest(array['coliseum.process_pending(int)', 'coliseum.refresh_due(int)', 'coliseum.rebuild(timestamptz)',
                     'coliseum_private.refresh_artists(uuid[], timestamptz, boolean)',
                     'coliseum_private.fold_entries(bigint[], timestamptz, timestamptz)']) as f,
        unnest(array['anon', 'authenticated', 'service_role']) as r
   where has_function_privilege(r, f, 'EXECUTE')),
  array['coliseum.process_pending(int) service_role', 'coliseum.rebuild(timestamptz) service_role',
        'coliseum.refresh_due(int) service_role'],
  'service_role runs the entry points; nobody but the owner runs the private helpers');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc as p
   where p.pronamespace = 'coliseum'::regnamespace and p.proname in ('process_pending', 'refresh_due', 'rebuild')
     and p.prosecdef and p.proconfig @> array['search_path=""']),
  array['process_pending', 'rebuild', 'refresh_due'], 'the entry points are security definer with an empty search_path');

-- Append-only ---------------------------------------------------------------------------

select is((select string_agg(tgenabled::text, '') from pg_trigger
           where tgrelid = 'public.coliseum_dna_mutations'::regclass
             and tgname in ('coliseum_dna_mutations_append_only', 'coliseum_dna_mutations_append_only_rows')),
          'AA', 'the append-only triggers are ENABLE ALWAYS');
select throws_ok('truncate public.coliseum_dna_mutations', '42501', 'coliseum_dna_mutations is append-only: TRUNCATE is refused',
                 'TRUNCATE outside rebuild is refused, for the owner too');
select throws_ok($$select set_config('buckets.coliseum_rebuild', '1', true); truncate public.coliseum_dna_mutations$$, '42501', null,
                 'a setting that does not name this transaction does not open it');

-- Realtime -------------------------------------------------------------------------------

select is(
  (select array_agg(schemaname || '.' || tablename order by schemaname, tablename) from pg_publication_tables
   where pubname = 'supabase_realtime' and schemaname in ('public', 'coliseum')
     and tablename in ('coliseum_domain_strength', 'notifications', 'coliseum_dna_mutations')),
  array['coliseum.notifications', 'public.coliseum_domain_strength'],
  'strengths and notifications are in the supabase_realtime publication');

-- Cron -----------------------------------------------------------------------------------

select results_eq(
  $$select schedule, active, command like '%coliseum.start_processor()%' and command like '%select coliseum.process_pending(50000); select coliseum.refresh_due();'
    from cron.job where jobname = 'coliseum-process'$$,
  $$values ('* * * * *'::text, true, true)$$,
  'coliseum-process runs every minute: (re)start the processor where it exists, process, re-score');
select is(
  (select count(*) from cron.job where jobname = 'coliseum-fast-path'),
  (select count(*) from pg_extension as c
   where c.extname = 'pg_cron' and string_to_array(split_part(c.extversion, '-', 1), '.')::int[] >= '{1,5}'
     and not exists (select from pg_extension where extname = 'pg_coliseum')),
  'coliseum-fast-path exists exactly where pg_coliseum is absent and pg_cron runs second schedules');
select is(
  (select schedule || ' ' || command from cron.job where jobname = 'coliseum-fast-path'),
  (select '1 seconds select coliseum.process_pending(10000)' from cron.job where jobname = 'coliseum-fast-path'),
  'where it exists, it processes every second');

-- Functions' arguments -------------------------------------------------------------------

select has_function('coliseum', 'process_pending', array['integer'], 'coliseum.process_pending(max_entries int)');
select has_function('coliseum', 'refresh_due', array['integer'], 'coliseum.refresh_due(max_artists int)');
select has_function('coliseum', 'rebuild', array['timestamp with time zone'], 'coliseum.rebuild(as_of timestamptz)');

select * from finish();
rollback;
