-- The Passport event catalog: every kind of event the log accepts, with the
-- payload fields each kind declares. Its rows are written by the generated
-- migration 20261122000400_passport_catalog_data.sql from
-- buckets_core::passport::KINDS, the single source of truth that the edge
-- validator reads as well. Edit the Rust catalog, never these rows.

-- The shape check_event relies on: an array of distinct field objects, each
-- {"name": text, "type": one of the eight types, "required": bool, "min": int|null},
-- with a min only on integer and number fields.
create function passport_private.field_is_valid(field jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(field) is distinct from 'object' then false
    when not field ?& array['name', 'type', 'required'] then false
    when exists (select from jsonb_object_keys(field) as k where k not in ('name', 'type', 'required', 'min')) then false
    when jsonb_typeof(field -> 'name') <> 'string' or field ->> 'name' = '' then false
    when field ->> 'type' not in ('string', 'integer', 'number', 'boolean', 'uuid', 'timestamp', 'currency', 'country') then false
    when jsonb_typeof(field -> 'required') <> 'boolean' then false
    when coalesce(jsonb_typeof(field -> 'min'), 'null') = 'null' then true
    when jsonb_typeof(field -> 'min') <> 'number' or field ->> 'type' not in ('integer', 'number') then false
    else scale((field -> 'min')::numeric) = 0
         and (field -> 'min')::numeric between -9223372036854775808 and 9223372036854775807
  end
$$;

create function passport_private.fields_are_valid(fields jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(fields) is distinct from 'array' then false
    else (select count(distinct f ->> 'name') = count(*)
                 and coalesce(bool_and(passport_private.field_is_valid(f)), true)
          from jsonb_array_elements(fields) as f)
  end
$$;

create table passport.event_kinds (
  name text primary key
    check (name ~ '^[a-z_]+\.[a-z_]+$'),
  family text not null
    check (family = split_part(name, '.', 1)),
  description text not null,
  domains text[] not null
    check (domains <@ array['A', 'T', 'G', 'C']),
  tier smallint not null
    check (tier between 1 and 5),
  weight double precision not null,
  needs_artist boolean not null,
  producers text[] not null
    check (cardinality(producers) > 0
           and producers <@ array['app', 'treasury', 'concierto', 'companon', 'system']),
  fields jsonb not null
    check (passport_private.fields_are_valid(fields)),
  dna_threshold_field text,
  dna_threshold_min bigint,
  check (weight = (array[0.1, 1, 10, 100, 1000]::double precision[])[tier]),
  check ((dna_threshold_field is null) = (dna_threshold_min is null)),
  check (dna_threshold_field is null
         or fields @> jsonb_build_array(jsonb_build_object('name', dna_threshold_field, 'type', 'integer')))
);

comment on table passport.event_kinds is
  'The Passport event catalog (generated from buckets_core::passport::KINDS). Public: anyone may read it.';
comment on column passport.event_kinds.domains is 'DNA domains the kind feeds: A cultural, T behavioral, G economic, C spatial.';
comment on column passport.event_kinds.tier is 'Weight tier 1..5 (trace, signal, intent, commitment, landmark).';
comment on column passport.event_kinds.weight is 'Multiplier of the tier: 0.1, 1, 10, 100 or 1000.';
comment on column passport.event_kinds.producers is 'Sources that may log the kind: app, treasury, concierto, companon, system.';
comment on column passport.event_kinds.fields is
  'Payload fields in declared order: [{"name","type","required","min"}]. Types: string, integer, number, boolean, uuid, timestamp, currency, country.';
comment on column passport.event_kinds.dna_threshold_field is 'Integer field whose value must reach dna_threshold_min for the event to count for DNA.';

alter table passport.event_kinds enable row level security;

create policy event_kinds_are_public on passport.event_kinds
  for select to anon, authenticated, service_role
  using (true);

grant select on passport.event_kinds to anon, authenticated, service_role;

-- Other spellings of catalog kinds that producers written before the catalog
-- still send (the existing app's audio_play, ticket.issued, ...). Its rows are
-- written by the same generated migration from buckets_core::passport::ALIASES.
-- An event sent under an alias is checked and stored as its kind, after the
-- payload keys in renames ({"key as sent": "field"}) moved to the fields they
-- stand for ("artist_id" is the envelope's artist).
create table passport.event_kind_aliases (
  alias text primary key
    check (alias ~ '^[A-Za-z0-9_.-]{1,200}$'),
  kind text not null references passport.event_kinds (name),
  renames jsonb not null default '{}'
    check (jsonb_typeof(renames) = 'object' and not jsonb_path_exists(renames, '$.* ? (@.type() != "string")'))
);

comment on table passport.event_kind_aliases is
  'Other spellings of catalog kinds, accepted and stored as the kind (generated from buckets_core::passport::ALIASES). '
  'passport.alias_use counts the events received under each.';
comment on column passport.event_kind_aliases.renames is
  'Payload keys producers of the alias send, each with the field it stands for: {"artistId": "artist_id", "trackId": "track_id"}. '
  'A key moves only when its field is not given already.';

alter table passport.event_kind_aliases enable row level security;

create policy event_kind_aliases_are_public on passport.event_kind_aliases
  for select to anon, authenticated, service_role
  using (true);

grant select on passport.event_kind_aliases to anon, authenticated, service_role;
