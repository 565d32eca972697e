-- The Passport event catalog: every kind of event the log accepts, with the
-- payload fields each kind declares. Its rows are written by the generated
-- migration 20261122000400_passport_catalog_data.sql from
-- buckets_core::passport::KINDS, the single source of truth that the edge
-- validator reads as well. Edit the Rust catalog, never these rows.

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants live in sql/passport/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122000290_passport_catalog_checks.sql           before it (what its tables' checks call)
-- 20261122000310_passport_catalog_code.sql             after it

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
