-- Coliseum counting rules and suspicion signals (issue 12): one fan cannot buy a board.
--
--   coliseum_dna_mutations.units      the units a mutation brings (rules version 2): the tier's
--                                     units, less for plays beyond the counting rules
--   coliseum.rules_versions 2         the catalog tiers and decay of version 1 plus the counting rules
--   coliseum_private.fan_days         per artist, UTC day and fan: the tracks that counted in each
--                                     30-minute slot, entries, counted plays, units, entries from new
--                                     accounts (the counting rules' state and the signals' source)
--   coliseum_private.artist_signals   per artist: fan concentration, velocity, new-account share,
--                                     suspicion, top fans (recomputed by every refresh)
--
-- Code: sql/coliseum/ (steps 20261202154057_coliseum_counting_code and the sources migration after
-- it); the counting functions come from 20261202154055_coliseum_counting_math. See
-- docs/coliseum-dna.md, "Counting rules" and "Suspicion signals".
--
-- Mutations stored before this step keep rules_version 1 and no units: they weigh their tier's
-- units as before. `select coliseum.rebuild()` derives everything again under version 2.

insert into coliseum.rules_versions (version, description) values
  (2, 'Version 1 plus the counting rules: a track counts once per fan, artist and 30-minute slot; '
      'at most 10 distinct tracks per fan, artist and slot; per fan, artist and UTC day the first 10 '
      'counted plays weigh in full, the next 20 half, later ones nothing.');

alter table public.coliseum_dna_mutations
  add column units bigint,
  add constraint coliseum_dna_mutations_units_check check (units >= 0),
  add constraint coliseum_dna_mutations_units_version_check check (units is not null or rules_version = 1);

comment on column public.coliseum_dna_mutations.units is
  'The units (tenths of a weight) the mutation brings, before decay: tier_units(tier), or less for a play '
  'beyond the counting rules (rules version 2). Null on version-1 rows, which bring tier_units(tier).';

create table coliseum_private.fan_days (
  artist_id uuid not null,
  day date not null,                -- UTC day of occurred_at (clamped to received_at, as mutations)
  fan_id uuid not null,
  entries bigint not null,          -- entries that made mutations
  counted_plays bigint not null,    -- plays the slot rules let through: the day rank so far
  units bigint not null,            -- the units of those entries (each entry once: its first domain)
  new_account_entries bigint not null, -- entries made when the fan's account was younger than 7 days
  tracks text[] not null,           -- '<slot>:<track>' of each play the slot rules let through (a slot
                                    -- is coliseum.play_slot(occurred_at): at most 10 a slot, 48 slots a day)
  primary key (artist_id, day, fan_id)
) with (fillfactor = 70);

comment on table coliseum_private.fan_days is
  'Per artist, UTC day and fan: the tracks that counted in each slot, entries, counted plays, units and '
  'entries from new accounts (derived; the counting rules and the suspicion signals).';

create table coliseum_private.artist_signals (
  artist_id uuid primary key,
  as_of timestamptz not null,
  entries_7d bigint not null,
  fans_7d bigint not null,
  units_7d bigint not null,
  top_fan_id uuid,
  top_fan_share double precision not null,  -- the top fan's share of units_7d
  entries_24h bigint not null,
  daily_mean_28d double precision not null, -- entries per day in the 28 days before the last 24 h
  velocity double precision not null,       -- entries_24h / greatest(daily_mean_28d, 1)
  new_account_share double precision not null, -- share of entries_7d from accounts younger than 7 days
  suspicion double precision not null check (suspicion between 0 and 1),
  top_fans jsonb not null                   -- [{"fan_id", "units", "share", "entries"}], at most 5
) with (fillfactor = 70);

comment on table coliseum_private.artist_signals is
  'Per artist, recomputed by every refresh: the suspicion signals coliseum.integrity_report shows admins.';

create index artist_signals_suspicion_idx on coliseum_private.artist_signals (suspicion desc, artist_id);
