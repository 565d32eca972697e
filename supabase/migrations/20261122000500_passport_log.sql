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

------------------------------------------------------------------------------
-- Value rules of the catalog's field types. Each mirrors one arm of
-- buckets_core::passport::validate::value_fits; the comments say where JSON as
-- serde_json reads it and JSON as jsonb stores it differ, and how that is
-- bridged.
------------------------------------------------------------------------------

-- `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either case. Stricter
-- than the uuid type's input, which also takes braces and missing hyphens.
create function passport_private.is_uuid(value text)
returns boolean
language sql
immutable
parallel safe
as $$
  select value ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
$$;

-- An RFC 3339 date-time as chrono's parse_from_rfc3339 reads it, or null.
-- The shape is the pattern of validate.rs; the ranges are chrono's: hour
-- 00-23, minute 00-59, second 00-60 (60 is a leap second, any minute), offset
-- up to ±23:59, year 0001-9999 (validate.rs refuses year 0000 as Postgres
-- does). Fractions are cut, not rounded, to microseconds, as
-- timestamp_micros() does. Built from parts rather than cast, because the
-- timestamptz input disagrees with chrono on offsets beyond ±15:59 and on
-- hour 24, and because a cast would need an exception block. The pattern has
-- no capture groups (they make Postgres' regex engine several times slower):
-- once it matched, every part sits at a known position.
create function passport_private.parse_rfc3339(value text)
returns timestamptz
language plpgsql
immutable
strict
parallel safe
as $$
declare
  year int;
  month int;
  day int;
  hour int;
  minute int;
  second int;
  zone_start int;
  micros int := 0;
  offset_hours int := 0;
  offset_minutes int := 0;
begin
  if not value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$' then
    return null;
  end if;
  year := substr(value, 1, 4)::int;
  month := substr(value, 6, 2)::int;
  day := substr(value, 9, 2)::int;
  hour := substr(value, 12, 2)::int;
  minute := substr(value, 15, 2)::int;
  second := substr(value, 18, 2)::int;
  if right(value, 1) in ('Z', 'z') then
    zone_start := length(value);
  else
    zone_start := length(value) - 5;
    offset_hours := substr(value, zone_start + 1, 2)::int;
    offset_minutes := right(value, 2)::int;
  end if;

  if year = 0
     or month not between 1 and 12
     or day not between 1 and (case
                                 when month in (4, 6, 9, 11) then 30
                                 when month <> 2 then 31
                                 when year % 4 = 0 and (year % 100 <> 0 or year % 400 = 0) then 29
                                 else 28
                               end)
     or hour > 23 or minute > 59 or second > 60
     or offset_hours > 23 or offset_minutes > 59 then
    return null;
  end if;

  if zone_start > 20 then
    micros := rpad(substr(value, 21, least(6, zone_start - 21)), 6, '0')::int;
  end if;
  if substr(value, zone_start, 1) = '-' then
    offset_hours := -offset_hours;
    offset_minutes := -offset_minutes;
  end if;
  return (make_timestamp(year, month, day, hour, minute, 0)
          + (second * 1000000 + micros) * interval '1 microsecond'
          - make_interval(hours => offset_hours, mins => offset_minutes)) at time zone 'UTC';
end
$$;

create function passport_private.is_rfc3339(value text)
returns boolean
language sql
immutable
parallel safe
as $$
  select passport_private.parse_rfc3339(value) is not null
$$;

-- A JSON number as the f64 serde_json makes of it, or null when it is not a
-- number or beyond the f64 range. Postgres' own conversion rounds correctly
-- but raises an error on overflow and on underflow to zero, so both ends are
-- decided here: at least DBL_MAX + half an ulp is infinite (not a number for
-- serde_json), at most half the smallest subnormal (2^-1075) is zero.
create function passport_private.json_f64(value jsonb)
returns double precision
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(value) is distinct from 'number' then null
    when abs(value::numeric) >= 2::numeric ^ 1024 - 2::numeric ^ 970 then null
    when abs(value::numeric) * 2::numeric ^ 1075 <= 1 then 0
    else value::numeric::double precision
  end
$$;

-- An integral f64 in the i64 range as an i64, else null.
create function passport_private.f64_as_i64(value double precision)
returns bigint
language sql
immutable
parallel safe
as $$
  select case
    when value = trunc(value) and value >= -9223372036854775808::double precision
         and value < 9223372036854775808::double precision
      then value::bigint
  end
$$;

-- A JSON number as an integer the way validate.rs's integer_value reads it:
-- an integer literal in the i64 range is exact; anything else (a fraction, an
-- exponent, a literal beyond i64) goes through f64 and counts only when the
-- f64 is integral and within i64. jsonb keeps the scale of a literal, so
-- `5` and `5.0` stay apart; a positive literal beyond i64 always lands at or
-- above 2^63 in f64 and is refused, as serde_json's u64 case is.
create function passport_private.json_i64(value jsonb)
returns bigint
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(value) is distinct from 'number' then null
    when scale(value::numeric) = 0
         and value::numeric between -9223372036854775808 and 9223372036854775807
      then value::numeric::bigint
    else passport_private.f64_as_i64(passport_private.json_f64(value))
  end
$$;

-- Whether a present payload value fits its declared field. JSON null never fits.
create function passport_private.value_fits(field_type text, field_min bigint, value jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
  select coalesce(case field_type
    when 'string' then jsonb_typeof(value) = 'string' and char_length(value #>> '{}') between 1 and 500
    when 'integer' then passport_private.json_i64(value) >= coalesce(field_min, -9223372036854775808)
    when 'number' then passport_private.json_f64(value) >= coalesce(field_min::double precision, '-infinity')
    when 'boolean' then jsonb_typeof(value) = 'boolean'
    when 'uuid' then jsonb_typeof(value) = 'string' and passport_private.is_uuid(value #>> '{}')
    when 'timestamp' then jsonb_typeof(value) = 'string' and passport_private.is_rfc3339(value #>> '{}')
    when 'currency' then jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^[A-Z]{3}$'
    when 'country' then jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^[A-Z]{2}$'
  end, false)
$$;

-- What a valid value of a field looks like, as rejection messages say it
-- (FieldType::expectation in catalog.rs).
create function passport_private.expectation(field_type text, field_min bigint)
returns text
language sql
immutable
parallel safe
as $$
  select case field_type
    when 'string' then 'a string of 1 to 500 characters'
    when 'integer' then 'an integer' || coalesce(' >= ' || field_min, '')
    when 'number' then 'a number' || coalesce(' >= ' || field_min, '')
    when 'boolean' then 'true or false'
    when 'uuid' then 'a UUID'
    when 'timestamp' then 'an RFC 3339 timestamp'
    when 'currency' then 'an ISO 4217 currency code (3 capital letters)'
    when 'country' then 'an ISO 3166-1 alpha-2 country code (2 capital letters)'
  end
$$;

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

-- Append-only, enforced below every role: the triggers are ENABLE ALWAYS, so
-- they also fire for superusers and for sessions in replica mode
-- (session_replication_role = replica), which skip ordinary triggers.
-- UPDATE passes only when nothing but coliseum_processed_at changes; the
-- comparison is over the whole row, so a column added later is protected
-- without touching this function.
create function passport_private.guard_passport_entries()
returns trigger
language plpgsql
as $$
declare
  unchanged public.passport_entries;
begin
  if tg_op = 'UPDATE' then
    unchanged := new;
    unchanged.coliseum_processed_at := old.coliseum_processed_at;
    if unchanged is not distinct from old then
      return new;
    end if;
  end if;
  raise exception using
    errcode = '42501',
    message = format('passport_entries is append-only: %s is refused', tg_op),
    hint = case tg_op
      when 'UPDATE' then 'Only coliseum_processed_at may change. Log a new event to record a correction.'
      else 'Entries are kept forever. Log a new event to record a correction.'
    end;
end
$$;

-- Only an UPDATE that names another column runs the check: the processor's
-- marks (SET coliseum_processed_at only) cost no trigger call. The column
-- list is every column but coliseum_processed_at (a pgTAP test keeps it so).
create trigger passport_entries_append_only_update
  before update of id, user_id, kind, artist_id, payload, occurred_at, received_at, client_event_id, source
  on public.passport_entries
  for each row execute function passport_private.guard_passport_entries();
create trigger passport_entries_append_only_delete
  before delete or truncate on public.passport_entries
  for each statement execute function passport_private.guard_passport_entries();
alter table public.passport_entries enable always trigger passport_entries_append_only_update;
alter table public.passport_entries enable always trigger passport_entries_append_only_delete;

-- Supabase grants every API role ALL on new tables in public. The log is
-- written only through passport.ingest and passport.log (security definer),
-- so the API roles keep SELECT at most, under RLS.
revoke all on public.passport_entries from anon, authenticated, service_role;
revoke all on sequence public.passport_entries_id_seq from anon, authenticated, service_role;
grant select on public.passport_entries to authenticated, service_role;

alter table public.passport_entries enable row level security;

create policy passport_entries_owner_reads on public.passport_entries
  for select to authenticated
  using (user_id = (select auth.uid()));

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

alter table passport.rejections enable row level security;
revoke all on passport.rejections from anon, authenticated, service_role;
revoke all on sequence passport.rejections_id_seq from anon, authenticated, service_role;
grant select on passport.rejections to service_role;

-- Drops rejections older than max_age, then all but the newest max_rows.
-- Returns how many rows went.
create function passport_private.prune_rejections(
  max_age interval default interval '30 days',
  max_rows bigint default 1000000
)
returns bigint
language plpgsql
as $$
declare
  too_old bigint;
  too_many bigint;
begin
  delete from passport.rejections as r
  where r.rejected_at < now() - max_age;
  get diagnostics too_old = row_count;

  delete from passport.rejections as r
  where r.id <= (select k.id from passport.rejections as k order by k.id desc offset max_rows limit 1);
  get diagnostics too_many = row_count;

  return too_old + too_many;
end
$$;

select cron.schedule(
  'passport-prune-rejections',
  '*/10 * * * *',
  'select passport_private.prune_rejections()'
);

------------------------------------------------------------------------------
-- Aliases: other spellings of catalog kinds (passport.event_kind_aliases)
------------------------------------------------------------------------------

-- buckets_core::passport::restate in SQL: moves an alias's payload keys
-- (renames: {"key as sent": "field"}) to the fields they stand for. A key
-- moves only when its field is not given already ("artist_id": the envelope's
-- artist, given when artist is not null); otherwise it stays, and the catalog
-- check refuses it as undeclared. The catalog test forbids chains (a key
-- moved in never moves again), so the order of renames does not matter.
-- Returns {"payload": ...} plus, when the artist came from a payload key,
-- "artist" (its value, whatever it is) and "artist_from" ('payload.<key>');
-- "artist" is absent otherwise. A payload that is not an object is left as it is.
create function passport_private.restate(renames jsonb, artist jsonb, payload jsonb)
returns jsonb
language plpgsql
immutable
parallel safe
as $$
declare
  rename record;
  moved jsonb := '{}'::jsonb;
begin
  if jsonb_typeof(payload) is distinct from 'object' then
    return jsonb_build_object('payload', payload);
  end if;
  for rename in select r.key, r.value from jsonb_each_text(renames) as r loop
    if not payload ? rename.key then
      continue;
    end if;
    if rename.value = 'artist_id' then
      if artist is null then
        moved := jsonb_build_object('artist', payload -> rename.key, 'artist_from', 'payload.' || rename.key);
        payload := payload - rename.key;
      end if;
    elsif not payload ? rename.value then
      payload := (payload - rename.key) || jsonb_build_object(rename.value, payload -> rename.key);
    end if;
  end loop;
  return moved || jsonb_build_object('payload', payload);
end
$$;

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

alter table passport.alias_use enable row level security;
revoke all on passport.alias_use from anon, authenticated, service_role;
grant select on passport.alias_use to service_role;

-- Adds to today's count of an alias. The row stays locked until the writer's
-- transaction ends: ingest calls this last; passport.log inside its caller's
-- transaction (the platform's own producers never use aliases).
create function passport_private.count_alias_use(alias text, source text, received bigint, stored bigint)
returns void
language sql
as $$
  insert into passport.alias_use as u (day, alias, source, kind, received, stored)
  select (now() at time zone 'UTC')::date, a.alias, count_alias_use.source, a.kind,
         count_alias_use.received, count_alias_use.stored
  from passport.event_kind_aliases as a
  where a.alias = count_alias_use.alias
  on conflict (day, alias, source) do update
    set received = u.received + excluded.received, stored = u.stored + excluded.stored
$$;

------------------------------------------------------------------------------
-- The catalog check
------------------------------------------------------------------------------

-- buckets_core::passport::check_event in SQL: same rules, same order, same
-- codes, same messages. kind may be an alias: the event is then checked as
-- its kind after passport_private.restate, and a payload key standing for the
-- artist must hold a UUID (invalid_field, right after the kind). First
-- failure wins:
--   unknown_kind, forbidden_kind, artist_required, per declared field in
--   order missing_field / invalid_field, unknown_field (byte-wise smallest
--   undeclared key), occurred_in_future (> 5 minutes after received_at).
-- Two checks exist only here: invalid_field when payload is not a JSON object
-- (first; the edge refuses such events, in the same words, before it checks
-- the catalog) and payload_too_large above 32768 bytes of JSON text (last).
-- Both out values are null when the event is valid. Security definer so that
-- callers need no grant on the passport_private helpers it uses.
create function passport.check_event(
  kind text,
  source text,
  artist_id uuid,
  payload jsonb,
  occurred_at timestamptz default now(),
  received_at timestamptz default now(),
  out code text,
  out message text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  k passport.event_kinds;
  aka passport.event_kind_aliases;
  moved jsonb;
  field jsonb;
  value jsonb;
  declared text[] := '{}'::text[];
  undeclared text;
begin
  if jsonb_typeof(payload) is distinct from 'object' then
    code := 'invalid_field';
    message := 'payload must be a JSON object';
    return;
  end if;

  select * into k from passport.event_kinds as e where e.name = check_event.kind;
  if not found then
    select * into aka from passport.event_kind_aliases as a where a.alias = check_event.kind;
    if not found then
      code := 'unknown_kind';
      message := format('unknown event kind "%s"', kind);
      return;
    end if;
    moved := passport_private.restate(aka.renames, to_jsonb(artist_id), payload);
    if moved ? 'artist' then
      if jsonb_typeof(moved -> 'artist') is distinct from 'string' or not passport_private.is_uuid(moved ->> 'artist') then
        code := 'invalid_field';
        message := (moved ->> 'artist_from') || ' must be a UUID';
        return;
      end if;
      artist_id := (moved ->> 'artist')::uuid;
    end if;
    payload := moved -> 'payload';
    select * into k from passport.event_kinds as e where e.name = aka.kind;
  end if;

  if not coalesce(source = any (k.producers), false) then
    code := 'forbidden_kind';
    message := format('%s is not accepted from source %s', k.name, source);
    return;
  end if;

  if k.needs_artist and artist_id is null then
    code := 'artist_required';
    message := format('%s needs artist_id', k.name);
    return;
  end if;

  -- Indexing the array keeps the loop free of SQL queries.
  for i in 0 .. jsonb_array_length(k.fields) - 1 loop
    field := k.fields -> i;
    declared := declared || (field ->> 'name');
    value := payload -> (field ->> 'name');
    if value is null then
      if (field ->> 'required')::boolean then
        code := 'missing_field';
        message := format('payload.%s is required for %s', field ->> 'name', k.name);
        return;
      end if;
    elsif not passport_private.value_fits(field ->> 'type', (field ->> 'min')::bigint, value) then
      code := 'invalid_field';
      message := format('payload.%s must be %s', field ->> 'name',
                        passport_private.expectation(field ->> 'type', (field ->> 'min')::bigint));
      return;
    end if;
  end loop;

  if payload - declared <> '{}'::jsonb then
    select min(key collate "C") into undeclared from jsonb_object_keys(payload - declared) as key;
    code := 'unknown_field';
    message := format('payload.%s is not a field of %s', undeclared, k.name);
    return;
  end if;

  if occurred_at > received_at + interval '5 minutes' then
    code := 'occurred_in_future';
    message := 'occurred_at is more than 5 minutes in the future';
    return;
  end if;

  if octet_length(payload::text) > 32768 then
    code := 'payload_too_large';
    message := 'payload is larger than 32768 bytes';
  end if;
end
$$;

comment on function passport.check_event(text, text, uuid, jsonb, timestamptz, timestamptz) is
  'The Passport catalog rules (same codes and messages as buckets_core). Returns (null, null) for a valid event.';

------------------------------------------------------------------------------
-- Writers
------------------------------------------------------------------------------

-- The batch writer behind POST /functions/v1/passport-log.
--
-- events: a JSON array (at most 500) of normalized events
--   {"user_id", "source", "kind", "client_event_id", "occurred_at" (RFC 3339,
--    default now), "artist_id" (uuid or null), "payload" (object, default {})}
-- or events the edge already refused
--   {"rejected": {"code", "message"}, "user_id"?, "source"?, "kind"?, "client_event_id"?}.
-- Returns one result per event, in order:
--   {"status":"accepted","id":n} | {"status":"duplicate","id":<first stored id>}
--   | {"status":"rejected","code":..,"message":..}
--
-- The database re-checks every event (it is authoritative). An event under an
-- alias of a kind (passport.event_kind_aliases) is restated as that kind
-- first, stored as it, and counted in passport.alias_use; a rejection keeps
-- the kind as sent. Accepted events are stored by one INSERT in key order;
-- ON CONFLICT DO NOTHING makes a client_event_id seen before (in this batch,
-- an earlier call, or a concurrent one, which the INSERT waits for) a
-- duplicate. Those ids are read by a second statement: under READ COMMITTED
-- it sees rows that concurrent transactions committed while the INSERT
-- waited. Every rejection is recorded in passport.rejections in the same
-- transaction.
create function passport.ingest(events jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  results jsonb;
  alias_uses jsonb;
begin
  if jsonb_typeof(events) is distinct from 'array' then
    raise exception using
      errcode = '22023',
      message = 'passport.ingest expects a JSON array of events',
      hint = 'Pass [{"user_id": ..., "source": ..., "kind": ..., "client_event_id": ..., "payload": {...}}, ...].';
  end if;
  if jsonb_array_length(events) > 500 then
    raise exception using
      errcode = '54000',
      message = format('passport.ingest takes at most 500 events per call, got %s', jsonb_array_length(events)),
      hint = 'Split the batch.';
  end if;
  -- passport-log runs this as the signed-in user (set local role authenticated, the user's claims),
  -- as the app's RPC would: a user logs only their own events, from the app. Naming another user or
  -- a server-side source is the service role's.
  if current_setting('role', true) = 'authenticated' and exists (
    select 1
    from jsonb_array_elements(events) as e(event)
    where jsonb_typeof(e.event) is distinct from 'object'
       or lower(e.event ->> 'user_id') is distinct from auth.uid()::text
       or e.event ->> 'source' is distinct from 'app'
  ) then
    raise exception using
      errcode = '42501',
      message = 'a signed-in user logs only their own events, with source "app"',
      hint = 'Give every event "user_id": the caller''s id and "source": "app", or call as the service role.';
  end if;

  -- parsed is materialized so that each event is read once. JSON null counts
  -- as absent, as it does at the edge. An event under an alias
  -- (passport.event_kind_aliases) becomes its kind, with the payload keys
  -- moved to their fields; restate runs for those events only.
  with read as (
    select
      e.idx,
      e.event,
      nullif(e.event -> 'rejected', 'null'::jsonb) as pre,
      case when jsonb_typeof(e.event -> 'user_id') = 'string' and passport_private.is_uuid(e.event ->> 'user_id')
        then (e.event ->> 'user_id')::uuid end as user_id,
      case when jsonb_typeof(e.event -> 'source') = 'string' then e.event ->> 'source' end as source,
      case when jsonb_typeof(e.event -> 'kind') = 'string' then e.event ->> 'kind' end as kind_sent,
      case when jsonb_typeof(e.event -> 'client_event_id') = 'string' then e.event ->> 'client_event_id' end as client_event_id,
      case
        when coalesce(jsonb_typeof(e.event -> 'occurred_at'), 'null') = 'null' then now()
        when jsonb_typeof(e.event -> 'occurred_at') = 'string' then passport_private.parse_rfc3339(e.event ->> 'occurred_at')
      end as occurred_at,
      nullif(e.event -> 'artist_id', 'null'::jsonb) as artist_sent,
      coalesce(nullif(e.event -> 'payload', 'null'::jsonb), '{}'::jsonb) as payload_sent
    from jsonb_array_elements(events) with ordinality as e(event, idx)
  ),
  restated as (
    select
      r.*,
      a.alias,
      coalesce(a.kind, r.kind_sent) as kind,
      case when a.alias is not null then passport_private.restate(a.renames, r.artist_sent, r.payload_sent) end as moved
    from read as r
    left join passport.event_kind_aliases as a on a.alias = r.kind_sent
    offset 0 -- restate once per event, not once per use of moved
  ),
  parsed as materialized (
    select
      x.*,
      case when jsonb_typeof(x.artist_json) = 'string' and passport_private.is_uuid(x.artist_json #>> '{}')
        then (x.artist_json #>> '{}')::uuid end as artist_id
    from (
      select
        r.idx, r.event, r.pre, r.user_id, r.source, r.kind_sent, r.client_event_id, r.occurred_at, r.alias, r.kind,
        r.moved ->> 'artist_from' as artist_from,
        case when r.moved ? 'artist' then r.moved -> 'artist' else r.artist_sent end as artist_json,
        coalesce(r.moved -> 'payload', r.payload_sent) as payload
      from restated as r
    ) as x
  ),
  -- What is wrong with the envelope, as [code, message], in the order and the
  -- words of the edge (edge/src/passport_log.rs), which refuses such events
  -- before they get here; only direct callers meet these.
  shaped as (
    select
      p.*,
      case
        when p.pre is not null then
          array[coalesce(p.pre ->> 'code', 'invalid_event'), coalesce(p.pre ->> 'message', 'refused before passport.ingest')]
        when jsonb_typeof(p.event) <> 'object' then
          array['invalid_event', 'an event must be a JSON object']
        when p.event - array['user_id', 'source', 'kind', 'client_event_id', 'occurred_at', 'artist_id', 'payload'] <> '{}' then
          array['unknown_field', (
            select min(k collate "C") || ' is not an event field'
            from jsonb_object_keys(p.event - array['user_id', 'source', 'kind', 'client_event_id', 'occurred_at', 'artist_id', 'payload']) as k)]
        when coalesce(jsonb_typeof(p.event -> 'user_id'), 'null') = 'null' then
          array['missing_field', 'user_id is required']
        when p.user_id is null then
          array['invalid_field', 'user_id must be a UUID']
        when coalesce(jsonb_typeof(p.event -> 'source'), 'null') = 'null' then
          array['missing_field', 'source is required']
        when p.source is null or p.source not in ('app', 'treasury', 'concierto', 'companon', 'system') then
          array['invalid_field', 'source must be one of app, treasury, concierto, companon, system']
        when coalesce(jsonb_typeof(p.event -> 'kind'), 'null') = 'null' then
          array['missing_field', 'kind is required']
        when p.kind is null then
          array['invalid_field', 'kind must be a string']
        when coalesce(jsonb_typeof(p.event -> 'client_event_id'), 'null') = 'null' then
          array['missing_field', 'client_event_id is required']
        when p.client_event_id is null or char_length(p.client_event_id) not between 1 and 200 then
          array['invalid_field', 'client_event_id must be a string of 1 to 200 characters']
        when p.occurred_at is null then
          array['invalid_field', 'occurred_at must be an RFC 3339 timestamp']
        -- The envelope's artist_id, or (under an alias) the payload key that stood for it.
        when p.artist_id is null and p.artist_json is not null then
          array['invalid_field', coalesce(p.artist_from, 'artist_id') || ' must be a UUID']
      end as problem
    from parsed as p
  ),
  checked as (
    select
      s.idx, s.user_id, s.source, s.kind_sent, s.alias, s.kind, s.client_event_id, s.artist_id, s.payload, s.occurred_at,
      coalesce(s.problem[1], c.code) as code,
      coalesce(s.problem[2], c.message) as message
    from shaped as s
    cross join lateral passport.check_event(s.kind, s.source, s.artist_id, s.payload, s.occurred_at, now()) as c
  ),
  inserted as (
    insert into public.passport_entries (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
    select c.user_id, c.kind, c.artist_id, c.payload, c.occurred_at, c.client_event_id, c.source
    from checked as c
    where c.code is null
    -- Key order, not input order: concurrent batches then take their
    -- speculative-insert locks in one global order and cannot deadlock; idx
    -- keeps the first occurrence of a key within the batch the one stored.
    order by c.user_id, c.client_event_id, c.idx
    on conflict (user_id, client_event_id) do nothing
    returning id, user_id, client_event_id
  ),
  recorded as (
    insert into passport.rejections (user_id, source, kind, client_event_id, code, message)
    select c.user_id, left(c.source, 50), left(c.kind_sent, 200), left(c.client_event_id, 200),
           left(c.code, 50), left(c.message, 1000)
    from checked as c
    where c.code is not null
    order by c.idx -- ids in the order of the batch
  ),
  ranked as (
    select
      c.*,
      c.idx = min(c.idx) over (partition by c.code is null, c.user_id, c.client_event_id) as first_of_key
    from checked as c
  ),
  -- The ids this INSERT stored, by key: a lookup that does not depend on the
  -- planner guessing how many rows a CTE holds.
  stored as (
    select jsonb_object_agg(i.user_id::text || '/' || i.client_event_id, i.id) as ids
    from inserted as i
  ),
  answered as (
    select r.*, s.ids -> (r.user_id::text || '/' || r.client_event_id) as stored_id
    from ranked as r
    cross join stored as s
  )
  select
    jsonb_agg(
      case
        when a.code is not null then jsonb_build_object('status', 'rejected', 'code', a.code, 'message', a.message)
        when a.stored_id is null then jsonb_build_object('status', 'pending', 'user_id', a.user_id, 'client_event_id', a.client_event_id)
        when a.first_of_key then jsonb_build_object('status', 'accepted', 'id', a.stored_id)
        else jsonb_build_object('status', 'duplicate', 'id', a.stored_id)
      end
      order by a.idx),
    (select jsonb_agg(u) from (
       select x.alias, x.source, count(*) as received,
              count(*) filter (where x.code is null and x.first_of_key and x.stored_id is not null) as stored
       from answered as x
       where x.alias is not null and x.source in ('app', 'treasury', 'concierto', 'companon', 'system')
       group by x.alias, x.source) as u)
  into results, alias_uses
  from answered as a;

  -- Events whose client_event_id was stored before this INSERT ran.
  if results @> '[{"status": "pending"}]' then
    select jsonb_agg(
      case when r.result ->> 'status' = 'pending'
        then jsonb_build_object('status', 'duplicate', 'id', e.id)
        else r.result
      end
      order by r.idx)
    into results
    from jsonb_array_elements(results) with ordinality as r(result, idx)
    left join public.passport_entries as e
      on r.result ->> 'status' = 'pending'
     and e.user_id = (r.result ->> 'user_id')::uuid
     and e.client_event_id = r.result ->> 'client_event_id';
  end if;

  -- In one order, so that concurrent batches lock the counters without deadlock.
  perform passport_private.count_alias_use(u.alias, u.source, u.received, u.stored)
  from jsonb_to_recordset(alias_uses) as u(alias text, source text, received bigint, stored bigint)
  order by u.alias, u.source;

  return coalesce(results, '[]'::jsonb);
end
$$;

comment on function passport.ingest(jsonb) is
  'Stores a batch of normalized events (at most 500); returns accepted/duplicate/rejected per event in order.';

-- The writer for server-side producers (Treasury, Concierto, triggers), to be
-- called inside their own transaction: the event commits or rolls back with
-- it. Same checks as ingest; an invalid event raises 22023 with the rejection
-- message and its code in DETAIL, and is therefore not recorded in
-- passport.rejections (the caller's transaction fails). A client_event_id
-- already stored for the user returns the stored id. An event under an alias
-- is stored as its kind and counted in passport.alias_use.
create function passport.log(
  user_id uuid,
  kind text,
  client_event_id text,
  payload jsonb default '{}',
  artist_id uuid default null,
  occurred_at timestamptz default now(),
  source text default 'system'
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem record;
  entry_id bigint;
  aka passport.event_kind_aliases;
  moved jsonb;
begin
  -- The envelope first, in the order and the words of passport.ingest.
  select p[1] as code, p[2] as message into problem
  from (select case
    when log.user_id is null then array['missing_field', 'user_id is required']
    when log.source is null then array['missing_field', 'source is required']
    when log.source not in ('app', 'treasury', 'concierto', 'companon', 'system') then
      array['invalid_field', 'source must be one of app, treasury, concierto, companon, system']
    when log.kind is null then array['missing_field', 'kind is required']
    when log.client_event_id is null then array['missing_field', 'client_event_id is required']
    when char_length(log.client_event_id) not between 1 and 200 then
      array['invalid_field', 'client_event_id must be a string of 1 to 200 characters']
    when log.occurred_at is null then array['missing_field', 'occurred_at is required']
  end) as envelope(p);

  if problem.code is null then
    select * into problem
    from passport.check_event(log.kind, log.source, log.artist_id, coalesce(log.payload, '{}'), log.occurred_at, now());
  end if;
  if problem.code is not null then
    raise exception using
      errcode = '22023',
      message = problem.message,
      detail = problem.code,
      hint = 'passport.event_kinds lists the kinds, who may log them and their payload fields.';
  end if;

  -- An alias (check_event took it) is stored as its kind.
  select * into aka from passport.event_kind_aliases as a where a.alias = log.kind;
  if found then
    moved := passport_private.restate(aka.renames, to_jsonb(log.artist_id), coalesce(log.payload, '{}'));
    kind := aka.kind;
    payload := moved -> 'payload';
    artist_id := coalesce(log.artist_id, (moved ->> 'artist')::uuid);
  end if;

  insert into public.passport_entries as e (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
  values (log.user_id, log.kind, log.artist_id, coalesce(log.payload, '{}'), log.occurred_at, log.client_event_id, log.source)
  on conflict on constraint passport_entries_user_client_event_key do nothing
  returning e.id into entry_id;

  if aka.alias is not null then
    perform passport_private.count_alias_use(aka.alias, log.source, 1, (entry_id is not null)::int);
  end if;

  if entry_id is null then
    select e.id into entry_id
    from public.passport_entries as e
    where e.user_id = log.user_id and e.client_event_id = log.client_event_id;
  end if;
  return entry_id;
end
$$;

comment on function passport.log(uuid, text, text, jsonb, uuid, timestamptz, text) is
  'Logs one event inside the caller''s transaction; returns its id (the stored id on a duplicate). Raises 22023 on an invalid event.';

------------------------------------------------------------------------------
-- Reading
------------------------------------------------------------------------------

-- The signed-in user's history, newest first. Filters: kinds (null = all),
-- occurred_at in [from_at, to_at), artist. Keyset pagination: pass the last
-- row's occurred_at and id as before_occurred_at and before_id to get the next
-- page. Security invoker: RLS decides what the caller may read.
create function passport.timeline(
  kinds text[] default null,
  from_at timestamptz default null,
  to_at timestamptz default null,
  artist uuid default null,
  page_size int default 50,
  before_occurred_at timestamptz default null,
  before_id bigint default null
)
returns table (
  id bigint,
  kind text,
  artist_id uuid,
  payload jsonb,
  occurred_at timestamptz,
  received_at timestamptz,
  source text
)
language plpgsql
stable
-- Plan each call with its own arguments, so that the filters left null drop
-- out and the keyset condition becomes an index bound.
set plan_cache_mode = force_custom_plan
as $$
declare
  reader uuid := auth.uid();
begin
  if reader is null then
    raise exception using
      errcode = '42501',
      message = 'sign in to read a timeline',
      hint = 'Call with a user''s access token.';
  end if;
  if page_size is null or page_size not between 1 and 200 then
    raise exception using
      errcode = '22023',
      message = format('page_size must be between 1 and 200, got %s', coalesce(page_size::text, 'null'));
  end if;
  if (before_occurred_at is null) <> (before_id is null) then
    raise exception using
      errcode = '22023',
      message = 'before_occurred_at and before_id go together',
      hint = 'Pass both from the last row of the previous page, or neither for the first page.';
  end if;

  return query
    select e.id, e.kind, e.artist_id, e.payload, e.occurred_at, e.received_at, e.source
    from public.passport_entries as e
    where e.user_id = reader
      and (kinds is null or e.kind = any (kinds))
      and (from_at is null or e.occurred_at >= from_at)
      and (to_at is null or e.occurred_at < to_at)
      and (artist is null or e.artist_id = artist)
      and (before_id is null or (e.occurred_at, e.id) < (before_occurred_at, before_id))
    order by e.occurred_at desc, e.id desc
    limit page_size;
end
$$;

comment on function passport.timeline(text[], timestamptz, timestamptz, uuid, int, timestamptz, bigint) is
  'The caller''s own Passport entries, newest first, filtered and keyset-paginated (page_size 1..200).';

------------------------------------------------------------------------------
-- Who may call what. Functions in these schemas start with no grant at all
-- (see the foundation migration); the table owner runs the cron job.
------------------------------------------------------------------------------

grant execute on function passport.check_event(text, text, uuid, jsonb, timestamptz, timestamptz)
  to anon, authenticated, service_role;
grant execute on function passport.ingest(jsonb) to authenticated, service_role;
grant execute on function passport.log(uuid, text, text, jsonb, uuid, timestamptz, text) to service_role;
grant execute on function passport.timeline(text[], timestamptz, timestamptz, uuid, int, timestamptz, bigint)
  to anon, authenticated, service_role;
