-- Passport: the canonical, append-only log of everything users do.
--
--   public.passport_entries   the log (append-only, RLS: users read their own rows)
--   passport.check_event      the catalog rules, identical to buckets_core::passport::check_event
--   passport.ingest           batch writer behind POST /functions/v1/passport-log
--   passport.log              single-event writer for server-side producers
--   passport.timeline         a signed-in user's own history, keyset-paginated
--   passport.rejections       what was refused, kept 30 days / 1,000,000 rows
--   passport.alias_use        events received under the catalog's aliases, per day
--
-- Errors are raised with a SQLSTATE and a message (see docs/passport-sql.md).

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants live in sql/passport/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122000510_passport_log_code.sql                 after it

------------------------------------------------------------------------------
-- The log
------------------------------------------------------------------------------

create table public.passport_entries (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  kind text not null references passport.event_kinds (name),
  artist_id uuid,
  payload jsonb not null default '{}'
    check (jsonb_typeof(payload) = 'object'),
  -- Finite: the weight math cannot age an event from ±infinity.
  occurred_at timestamptz not null check (isfinite(occurred_at)),
  received_at timestamptz not null default now(),
  client_event_id text not null
    check (char_length(client_event_id) between 1 and 200),
  source text not null
    check (source in ('app', 'treasury', 'concierto', 'companon', 'system')),
  coliseum_processed_at timestamptz,
  constraint passport_entries_user_client_event_key unique (user_id, client_event_id)
);

comment on table public.passport_entries is
  'Passport: the append-only log of everything users do. Written by passport.ingest and passport.log only; '
  'UPDATE (except coliseum_processed_at), DELETE and TRUNCATE are refused for every role.';
comment on column public.passport_entries.occurred_at is 'When the event happened (as the producer says, at most 5 minutes ahead of received_at).';
comment on column public.passport_entries.received_at is 'When the database stored it.';
comment on column public.passport_entries.client_event_id is 'The producer''s id of the event; (user_id, client_event_id) is unique forever.';
comment on column public.passport_entries.coliseum_processed_at is 'Set by the Coliseum processor when it has folded the entry into DNA; null means pending.';

-- A user's history, newest first, and the keyset that pages through it.
create index passport_entries_timeline_idx
  on public.passport_entries (user_id, occurred_at desc, id desc);
-- The processor's "next pending" scan stays small however long the log grows.
create index passport_entries_pending_idx
  on public.passport_entries (id)
  where coliseum_processed_at is null;

------------------------------------------------------------------------------
-- Rejections: a bounded record for operators
------------------------------------------------------------------------------

create table passport.rejections (
  id bigint generated always as identity primary key,
  rejected_at timestamptz not null default now(),
  user_id uuid,
  source text,
  kind text,
  client_event_id text,
  code text not null,
  message text not null
);

comment on table passport.rejections is
  'Events passport.ingest refused, with the reason. Kept 30 days and at most 1,000,000 rows '
  '(pg_cron job passport-prune-rejections). Text columns are cut to bounded lengths.';

create index rejections_rejected_at_idx on passport.rejections (rejected_at);

select cron.schedule(
  'passport-prune-rejections',
  '*/10 * * * *',
  'select passport_private.prune_rejections()'
);

------------------------------------------------------------------------------
-- Aliases: other spellings of catalog kinds (passport.event_kind_aliases)
------------------------------------------------------------------------------

-- Who still sends the old spellings: per UTC day, alias and source, the
-- events received under the alias (stored, duplicate or refused) and those
-- stored. Events whose envelope names no valid source are in
-- passport.rejections only. At most (aliases x 5 sources) rows a day.
create table passport.alias_use (
  day date not null,
  alias text not null,
  source text not null,
  kind text not null,
  received bigint not null,
  stored bigint not null,
  primary key (day, alias, source)
);

comment on table passport.alias_use is
  'Per UTC day, alias and source: events received under an alias of a catalog kind, and how many were stored '
  '(as the kind). An alias can be retired once its rows stop growing.';
