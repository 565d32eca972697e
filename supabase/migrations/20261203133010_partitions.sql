-- Years of log: public.passport_entries and public.coliseum_dna_mutations become partitioned tables, one
-- partition per UTC month, managed by pg_partman (docs/partitions.md). Old months can then be detached and
-- archived, and vacuum works on the months that change instead of the whole history.
--
--   public.passport_entries          by received_at (when the database stored the entry): every write goes
--                                    to the current month; retries and late events too
--   public.coliseum_dna_mutations    by occurred_at (least of the entry's occurred_at and received_at, fixed
--                                    by the entry): a mutation derived again lands in the same month
--   passport_private.entry_keys      (user_id, client_event_id), unpartitioned: exactly once across months
--
-- The tables are rebuilt in place for a database that holds rows: each old table moves aside, the
-- partitioned one takes its name, columns, defaults, checks, comments and identity (its sequence continues
-- where the old one stopped), the rows are copied, and the old table is dropped, all in this transaction.
--
-- This step holds tables, indexes, data and the cron job. Its functions, triggers, grants and policies live
-- in sql/, one file per object (docs/database-sources.md), installed by the generated steps:
-- 20261203133000_partitions_checks.sql   before it (passport_private.secure_partitions)
-- 20261203133020_partitions_code.sql     after it (the key trigger's function, the maintenance job's function)
-- and the sources step after that, which installs the tables' triggers, grants, RLS and policies (files
-- public.passport_entries.{triggers,policies}.sql, public.coliseum_dna_mutations.{triggers,policies}.sql)
-- and coliseum_private.mutations_of, whose argument is a row of the new table. Until that step ran, the
-- new tables have no grant for the API roles and RLS on without a policy (closed, never open), and
-- passport.ingest and passport.log, still naming the old unique key, fail rather than store twice.

-- On Supabase, postgres may create pg_partman (and a project that enabled it already has it). It lives in
-- its own schema, as Supabase's documentation places it.
create schema if not exists partman;
create extension if not exists pg_partman with schema partman;

-- A function whose argument is a row of the log depends on the table's row type; the sources step
-- creates it again for the new table.
drop function coliseum_private.mutations_of(public.passport_entries);

-- The old tables move aside with their indexes and sequences, freeing every name in public. Each ALTER
-- takes its table's ACCESS EXCLUSIVE lock until the commit, the log first, in the processor's order.
alter table public.passport_entries set schema passport_private;
alter table public.coliseum_dna_mutations set schema coliseum_private;

------------------------------------------------------------------------------
-- The log, by received_at
------------------------------------------------------------------------------

create table public.passport_entries (
  like passport_private.passport_entries
  including comments including constraints including defaults including identity including statistics including storage
) partition by range (received_at);

-- The old grants of Supabase's default privileges, and RLS on, until the policies step re-runs.
revoke all on public.passport_entries from anon, authenticated, service_role;
alter table public.passport_entries enable row level security;

comment on table public.passport_entries is
  'Passport: the append-only log of everything users do, one partition per UTC month of received_at (pg_partman). '
  'Written by passport.ingest and passport.log only; UPDATE (except coliseum_processed_at), DELETE and TRUNCATE '
  'are refused for every role. (user_id, client_event_id) is unique forever through passport_private.entry_keys.';
comment on column public.passport_entries.received_at is
  'When the database stored it; the partition key (one partition per UTC month).';

alter table public.passport_entries
  add constraint passport_entries_pkey primary key (id, received_at),
  add constraint passport_entries_kind_fkey foreign key (kind) references passport.event_kinds (name);

-- The indexes of the old table, each now one per partition.
create index passport_entries_timeline_idx
  on public.passport_entries (user_id, occurred_at desc, id desc);
create index passport_entries_pending_idx
  on public.passport_entries (id)
  where coliseum_processed_at is null;
create index passport_entries_location_set_idx
  on public.passport_entries (user_id, id)
  where kind = 'profile.location_set';

-- The key of every stored event, forever: a unique index of the partitioned log would have to hold
-- received_at, which a retry does not share with the first delivery.
create table passport_private.entry_keys (
  user_id uuid not null,
  client_event_id text not null,
  entry_id bigint not null,
  received_at timestamptz not null,
  constraint entry_keys_pkey primary key (user_id, client_event_id)
);

comment on table passport_private.entry_keys is
  'The key (user_id, client_event_id) of every Passport entry ever stored, with its id and partition key; written by '
  'the trigger passport_entries_exactly_once. Append-only, kept when a month of the log is detached.';

insert into passport_private.entry_keys (user_id, client_event_id, entry_id, received_at)
select e.user_id, e.client_event_id, e.id, e.received_at
from passport_private.passport_entries as e;

------------------------------------------------------------------------------
-- The mutations, by occurred_at
------------------------------------------------------------------------------

create table public.coliseum_dna_mutations (
  like coliseum_private.coliseum_dna_mutations
  including comments including constraints including defaults including identity including statistics including storage
) partition by range (occurred_at);

revoke all on public.coliseum_dna_mutations from anon, authenticated, service_role;
alter table public.coliseum_dna_mutations enable row level security;

comment on table public.coliseum_dna_mutations is
  'Coliseum: one row per (passport entry, domain) the entry feeds, one partition per UTC month of occurred_at '
  '(pg_partman). weight = the tier multiplier; decay is applied when scoring. Append-only: UPDATE and DELETE are '
  'refused; TRUNCATE only inside coliseum.rebuild().';
comment on column public.coliseum_dna_mutations.occurred_at is
  'least(occurred_at, received_at) of the entry: fixed by the entry, so the partition key of every mutation derived '
  'from it, and part of the unique key (entry_id, domain, occurred_at).';

-- (entry_id, domain) is unique: occurred_at is a function of the entry, so every mutation of one entry
-- and domain has the same occurred_at and lands in the same partition, where this key sees it.
alter table public.coliseum_dna_mutations
  add constraint coliseum_dna_mutations_pkey primary key (id, occurred_at),
  add constraint coliseum_dna_mutations_entry_domain_key unique (entry_id, domain, occurred_at),
  add constraint coliseum_dna_mutations_rules_version_fkey
    foreign key (rules_version) references coliseum.rules_versions (version);

create index coliseum_dna_mutations_artist_idx
  on public.coliseum_dna_mutations (artist_id, occurred_at);

------------------------------------------------------------------------------
-- Monthly partitions, from the month of the first stored entry, four months ahead, and a default
------------------------------------------------------------------------------

-- pg_partman 4 (Debian, the local stack) and 5 (Supabase) name the partitioning type differently and take
-- their arguments in another order: named arguments and the type by version. A mutation older than the
-- first month (an event that happened before the platform stored anything) lands in the default partition.
do $partitions$
declare
  first_month timestamptz := date_trunc('month', coalesce(
    (select min(e.received_at) from passport_private.passport_entries as e), now()) at time zone 'UTC') at time zone 'UTC';
  partition_type text := case
    when (select split_part(x.extversion, '.', 1)::int from pg_catalog.pg_extension as x where x.extname = 'pg_partman') >= 5
      then 'range' else 'native' end;
  parent record;
begin
  for parent in values ('public.passport_entries', 'received_at'), ('public.coliseum_dna_mutations', 'occurred_at') loop
    perform partman.create_parent(
      p_parent_table => parent.column1,
      p_control => parent.column2,
      p_type => partition_type,
      p_interval => '1 month',
      p_premake => 4,
      p_start_partition => to_char(first_month at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS+00'),
      p_automatic_maintenance => 'off',
      p_jobmon => false);
  end loop;
  -- Keep four months ahead even through quiet months; never drop nor detach by itself.
  update partman.part_config
  set infinite_time_partitions = true, retention = null, retention_keep_table = true
  where parent_table in ('public.passport_entries', 'public.coliseum_dna_mutations');
end
$partitions$;

------------------------------------------------------------------------------
-- The rows, the sequences, and the old tables gone
------------------------------------------------------------------------------

insert into public.passport_entries overriding system value
select * from passport_private.passport_entries;

insert into public.coliseum_dna_mutations overriding system value
select * from coliseum_private.coliseum_dna_mutations;

select setval('public.passport_entries_id_seq', s.last_value, s.is_called)
from passport_private.passport_entries_id_seq as s;
select setval('public.coliseum_dna_mutations_id_seq', s.last_value, s.is_called)
from coliseum_private.coliseum_dna_mutations_id_seq as s;

drop table passport_private.passport_entries;
drop table coliseum_private.coliseum_dna_mutations;

-- Each partition: no grant for the API roles, RLS without a policy, the TRUNCATE guard.
select passport_private.secure_partitions('public.passport_entries', 'passport_private.guard_passport_entries');
select passport_private.secure_partitions('public.coliseum_dna_mutations', 'coliseum_private.guard_mutations');

analyze public.passport_entries, public.coliseum_dna_mutations, passport_private.entry_keys;

-- Hourly: the coming months' partitions and what they need (pg_partman's background worker is not used:
-- pg_cron runs on every Supabase project already, and the job secures what it creates in one transaction).
select cron.schedule(
  'buckets-partition-maintenance',
  '23 * * * *',
  'select passport_private.maintain_partitions()'
);
