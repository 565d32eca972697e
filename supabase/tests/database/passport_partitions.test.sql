-- Partitions (docs/partitions.md): passport_entries by received_at and coliseum_dna_mutations by
-- occurred_at, one partition per UTC month (pg_partman). A row lands in its month, a key stays unique
-- across months, append-only and RLS hold for each partition reached by name, maintenance makes the
-- coming months, and a detached month leaves the log, its keys and the processor working.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(48);

-- The processor's side effects are this test's own: no badge rule of the database (the demo
-- activates the starter badges) adds badge.earned entries to the counts below.
update people.badges set active = false where active;

select gen_random_uuid() as fan, gen_random_uuid() as other, gen_random_uuid() as artist \gset

-- The partition of parent that holds value (pg_partman 4 and 5 name them differently).
create function pg_temp.month_of(parent text, value timestamptz) returns text
language sql as $$
  select case when n.table_exists then n.partition_table::text else split_part(parent, '.', 2) || '_default' end
  from partman.show_partition_name(parent, value::text) as n
$$;

-- Layout ----------------------------------------------------------------------------------

select is(pg_get_partkeydef('public.passport_entries'::regclass), 'RANGE (received_at)',
          'passport_entries is partitioned by received_at');
select is(pg_get_partkeydef('public.coliseum_dna_mutations'::regclass), 'RANGE (occurred_at)',
          'coliseum_dna_mutations is partitioned by occurred_at');
select results_eq(
  $$select parent_table::text, partition_interval::text, premake, automatic_maintenance::text, infinite_time_partitions,
           retention is null
    from partman.part_config
    where parent_table in ('public.passport_entries', 'public.coliseum_dna_mutations')
    order by parent_table$$,
  $$values ('public.coliseum_dna_mutations', '1 mon', 4, 'off', true, true),
           ('public.passport_entries', '1 mon', 4, 'off', true, true)$$,
  'monthly, four months premade, maintained by buckets-partition-maintenance only, never dropped by retention'
);
select is(
  (select count(*) from unnest(array['public.passport_entries', 'public.coliseum_dna_mutations']) as p,
                        generate_series(0, 4) as m
   where pg_temp.month_of(p, now() + make_interval(months => m)) like '%_default'),
  0::bigint,
  'this month and the next four have their partitions'
);
select is(
  (select array_agg(c.relname::text order by c.relname) from pg_class as c
   where c.relname in ('passport_entries_default', 'coliseum_dna_mutations_default') and c.relispartition),
  array['coliseum_dna_mutations_default', 'passport_entries_default'],
  'each has a default partition'
);
select is(
  (select jobname || ' ' || schedule || ' ' || command from cron.job where jobname = 'buckets-partition-maintenance'),
  'buckets-partition-maintenance 23 * * * * select passport_private.maintain_partitions()',
  'pg_cron runs the maintenance hourly'
);

-- A row lands in its month ----------------------------------------------------------------

select passport.log(:'fan', 'social.follow', 'partition-1', artist_id => :'artist', source => 'app') as id \gset
-- It happened long before the first month: its mutations go to the default partition.
select passport.log(:'fan', 'social.follow', 'partition-old', artist_id => :'artist',
                    occurred_at => '2024-06-01T12:00:00Z', source => 'app') as old_id \gset
select is((select tableoid::regclass::text from public.passport_entries where id = :id),
          pg_temp.month_of('public.passport_entries', now()),
          'an entry lands in the partition of the month it was received');
select is((select tableoid::regclass::text from public.passport_entries where id = :old_id),
          pg_temp.month_of('public.passport_entries', now()),
          'an entry about the past lands in the month it was received too');
select ok(coliseum.process_pending(1000) >= 2, 'the processor claims and folds entries of the partitioned log');
select is(
  (select array_agg(distinct tableoid::regclass::text) from public.coliseum_dna_mutations where entry_id = :id),
  array[pg_temp.month_of('public.coliseum_dna_mutations', now())],
  'its mutations land in the month the event occurred'
);
select is(
  (select array_agg(distinct tableoid::regclass::text) from public.coliseum_dna_mutations where entry_id = :old_id),
  array['coliseum_dna_mutations_default'],
  'a mutation older than the first month lands in the default partition'
);
select is((select coliseum_processed_at is not null from public.passport_entries where id = :id), true,
          'the claim marked the entry in its partition');

-- Exactly once across partitions -----------------------------------------------------------

select is(passport.log(:'fan', 'social.follow', 'partition-1', artist_id => :'artist', source => 'app'), :id::bigint,
          'a retry through passport.log answers the stored id');
select is(
  passport.ingest(jsonb_build_array(jsonb_build_object(
    'user_id', :'fan', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'partition-1',
    'artist_id', :'artist', 'occurred_at', now()))),
  jsonb_build_array(jsonb_build_object('status', 'duplicate', 'id', :id::bigint)),
  'a retry through passport.ingest is a duplicate of the stored id'
);
-- A retry received in another month: a key of the log cannot hold received_at.
with stored as (
  insert into public.passport_entries (user_id, kind, artist_id, occurred_at, received_at, client_event_id, source)
  values (:'fan', 'social.follow', :'artist', now(), date_trunc('month', now()) + interval '1 month 1 day',
          'partition-1', 'app')
  returning id)
select is(count(*), 0::bigint, 'the same key received in another month is not stored') from stored;
select is((select count(*) from public.passport_entries where user_id = :'fan' and client_event_id = 'partition-1'), 1::bigint,
          'the key is stored once');
select is(
  (select entry_id from passport_private.entry_keys where user_id = :'fan' and client_event_id = 'partition-1'), :id::bigint,
  'passport_private.entry_keys holds the key with its entry');
with stored as (
  insert into public.passport_entries (user_id, kind, artist_id, occurred_at, client_event_id, source)
  values (:'other', 'social.follow', :'artist', now(), 'partition-1', 'app')
  returning id)
select is(count(*), 1::bigint, 'the same client_event_id of another user is another event') from stored;
select throws_ok(
  format($$insert into public.coliseum_dna_mutations
             (entry_id, artist_id, domain, fan_id, kind, occurred_at, tier, weight, rules_version, units)
           select entry_id, artist_id, domain, fan_id, kind, occurred_at, tier, weight, rules_version, units
           from public.coliseum_dna_mutations where entry_id = %s$$, :id),
  '23505', null,
  'a mutation of an entry and domain is refused a second time (its occurred_at is the entry''s)'
);
select throws_ok(
  format($$delete from passport_private.entry_keys where entry_id = %s$$, :id),
  '42501', 'passport_private.entry_keys is append-only: DELETE is refused',
  'a key cannot be removed'
);

-- Append-only, each partition reached by name ------------------------------------------------

select pg_temp.month_of('public.passport_entries', now()) as log_month,
       pg_temp.month_of('public.coliseum_dna_mutations', now()) as mutation_month \gset
select throws_ok(format($$update public.%I set payload = '{"x": 1}' where id = %s$$, :'log_month', :id),
                 '42501', 'passport_entries is append-only: UPDATE is refused', 'an UPDATE of a month''s entry is refused');
select throws_ok(format('delete from public.%I where id = %s', :'log_month', :id),
                 '42501', 'passport_entries is append-only: DELETE is refused', 'a DELETE in a month is refused');
select throws_ok(format('truncate public.%I', :'log_month'),
                 '42501', 'passport_entries is append-only: TRUNCATE is refused', 'a TRUNCATE of a month is refused');
select throws_ok('truncate public.passport_entries_default',
                 '42501', 'passport_entries is append-only: TRUNCATE is refused', 'a TRUNCATE of the default is refused');
select throws_ok(format('update public.%I set weight = 0 where entry_id = %s', :'mutation_month', :id),
                 '42501', 'coliseum_dna_mutations is append-only: UPDATE is refused', 'an UPDATE of a month''s mutation is refused');
select throws_ok(format('delete from public.%I where entry_id = %s', :'mutation_month', :id),
                 '42501', 'coliseum_dna_mutations is append-only: DELETE is refused', 'a DELETE of a month''s mutation is refused');
select throws_ok(format('truncate public.%I', :'mutation_month'),
                 '42501', 'coliseum_dna_mutations is append-only: TRUNCATE is refused', 'a TRUNCATE of a month of mutations is refused');

-- RLS and grants: the parents decide, the partitions are closed -------------------------------

select is(
  (select array_agg(c.oid::regclass::text order by c.relname)
   from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
   where i.inhparent in ('public.passport_entries'::regclass, 'public.coliseum_dna_mutations'::regclass)
     and (not c.relrowsecurity
          or has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
          or has_table_privilege('authenticated', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
          or has_table_privilege('service_role', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
          or not exists (select from pg_trigger as t where t.tgrelid = c.oid and t.tgname = 'append_only_truncate'
                                                        and t.tgenabled = 'A'))),
  null,
  'every partition: RLS on, no privilege for an API role, its own TRUNCATE guard'
);

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select is((select count(*) from public.passport_entries), 2::bigint, 'the fan reads their own entries through the log');
select is((select count(*) from passport.timeline()), 2::bigint, 'and through passport.timeline');
select throws_ok(format('select count(*) from public.%I', :'log_month'), '42501', null,
                 'the fan cannot read a month''s partition by name');
select throws_ok('select count(*) from public.passport_entries_default', '42501', null,
                 'nor the default partition');
select throws_ok(format('select count(*) from public.%I', :'mutation_month'), '42501', null,
                 'nor a month of mutations');
reset role;

set local role anon;
select throws_ok(format('select count(*) from public.%I', :'log_month'), '42501', null,
                 'anon cannot read a month''s partition');
reset role;

set local role service_role;
select is((select count(*) from public.passport_entries where user_id = :'fan'), 2::bigint,
          'service_role reads the log through the parent');
select throws_ok(format('select count(*) from public.%I', :'log_month'), '42501', null,
                 'service_role reads no partition by name either');
reset role;

-- Maintenance makes the coming months ------------------------------------------------------------

update partman.part_config set premake = 6 where parent_table = 'public.passport_entries';
select is(passport_private.secure_partitions('public.passport_entries', 'passport_private.guard_passport_entries'), 0,
          'a partition that is secured already is left alone (no lock on the month being written)');
select lives_ok('select passport_private.maintain_partitions()', 'the maintenance job runs');
select isnt(pg_temp.month_of('public.passport_entries', now() + interval '6 months'), 'passport_entries_default',
            'it created the partition six months ahead');
select is(
  (select c.relrowsecurity and not has_table_privilege('authenticated', c.oid, 'SELECT')
          and exists (select from pg_trigger as t where t.tgrelid = c.oid and t.tgname = 'append_only_truncate')
   from pg_class as c
   where c.oid = ('public.' || pg_temp.month_of('public.passport_entries', now() + interval '6 months'))::regclass),
  true,
  'and secured it in the same transaction'
);

-- A detached month ------------------------------------------------------------------------------

insert into public.passport_entries (user_id, kind, artist_id, occurred_at, received_at, client_event_id, source)
values (:'fan', 'social.follow', :'artist', now(), date_trunc('month', now()) + interval '1 month 1 day', 'partition-next', 'app')
returning id as next_id, tableoid::regclass::text as next_month \gset
select lives_ok(format('alter table public.passport_entries detach partition public.%I', :'next_month'),
                'a month can be detached');
select is((select count(*) from public.passport_entries where id = :next_id), 0::bigint, 'its rows leave the log');
select is((select count(*) from public.:"next_month" where id = :next_id), 1::bigint, 'and stay in the detached table');
select is(has_table_privilege('authenticated', 'public.' || :'next_month', 'SELECT'), false,
          'the detached table stays closed to the API roles');
select is(passport.log(:'fan', 'social.follow', 'partition-next', artist_id => :'artist', source => 'app'), :next_id::bigint,
          'a retry of a detached event is still a duplicate: its key stays');
select passport.log(:'fan', 'social.follow', 'partition-after', artist_id => :'artist', source => 'app') as after_id \gset
select is((select tableoid::regclass::text from public.passport_entries where id = :after_id),
          pg_temp.month_of('public.passport_entries', now()),
          'new events are stored in their month');
select ok(coliseum.process_pending(1000) >= 1, 'the processor goes on');

set local role authenticated;
select is((select count(*) from passport.timeline()), 3::bigint, 'the timeline reads the attached months');
reset role;

select * from finish();
rollback;
