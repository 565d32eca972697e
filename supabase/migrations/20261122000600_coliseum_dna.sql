-- Coliseum DNA: the processor that folds Passport entries into per-artist
-- DNA, and the tables it writes (docs/coliseum-dna.md).
--
--   coliseum.rules_versions            versions of the weight rules a mutation was made with
--   coliseum.currency_rates            reference USD rates for the economic domain
--   coliseum.fans, coliseum.fan_genres  what Coliseum knows of a fan: home city, genres
--   public.coliseum_dna_mutations      one row per (entry, domain) an entry feeds (append-only)
--   public.coliseum_domain_strength    per artist, domain and period: the score and its components
--   coliseum.strength_history          the last value of each day, for trends and "change"
--   coliseum.notifications             "your DNA just increased", readable by the artist only
--
--   coliseum.process_pending           claim pending entries, derive mutations, refresh the artists
--   coliseum.refresh_due               re-score artists whose decay and windows moved on
--   coliseum.rebuild                   recompute everything from the whole log

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants live in sql/coliseum/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122000610_coliseum_dna_code.sql                 after it

------------------------------------------------------------------------------
-- Reference data
------------------------------------------------------------------------------

create table coliseum.rules_versions (
  version int primary key,
  description text not null,
  created_at timestamptz not null default now()
);

comment on table coliseum.rules_versions is
  'Versions of the DNA weight rules; every mutation names the version it was derived with.';

insert into coliseum.rules_versions (version, description) values
  (1, 'Catalog tiers (0.1x, 1x, 10x, 100x, 1000x), linear 30-day recency decay with a 10% floor, '
      'audio.play counts from 30 s (duration_ms >= 30000).');

create table coliseum.currency_rates (
  currency char(3) primary key check (currency ~ '^[A-Z]{3}$'),
  minor_exponent smallint not null check (minor_exponent between 0 and 4),
  usd_per_unit numeric not null check (usd_per_unit > 0),
  as_of date not null
);

comment on table coliseum.currency_rates is
  'Reference rates that turn economic amounts into US cents. Operator-maintained: update the rows '
  '(as the table owner or service_role); mutations keep the cents computed when they were derived.';

insert into coliseum.currency_rates (currency, minor_exponent, usd_per_unit, as_of) values
  ('USD', 2, 1,        '2026-11-01'),
  ('EUR', 2, 1.16,     '2026-11-01'),
  ('GBP', 2, 1.33,     '2026-11-01'),
  ('CAD', 2, 0.72,     '2026-11-01'),
  ('AUD', 2, 0.65,     '2026-11-01'),
  ('JPY', 0, 0.0066,   '2026-11-01'),
  ('INR', 2, 0.0113,   '2026-11-01'),
  ('BRL', 2, 0.185,    '2026-11-01'),
  ('MXN', 2, 0.054,    '2026-11-01'),
  ('NGN', 2, 0.00069,  '2026-11-01'),
  ('GHS', 2, 0.091,    '2026-11-01'),
  ('KES', 2, 0.0077,   '2026-11-01'),
  ('ZAR', 2, 0.057,    '2026-11-01'),
  ('MAD', 2, 0.108,    '2026-11-01');

------------------------------------------------------------------------------
-- What Coliseum knows of a fan
------------------------------------------------------------------------------

create table coliseum.fans (
  fan_id uuid primary key,
  home_city text,
  home_country char(2),
  declared_genre text,
  -- The entries the home and the genre come from: the one with the highest
  -- id wins, whatever order concurrent processors fold them in.
  location_entry_id bigint,
  genre_entry_id bigint,
  updated_at timestamptz not null default now()
);

comment on table coliseum.fans is
  'A fan''s home (latest profile.location_set) and declared genre (latest profile.genre_preference_set), by log order.';

create table coliseum.fan_genres (
  fan_id uuid not null,
  genre text not null,
  weight double precision not null,
  primary key (fan_id, genre)
);

comment on table coliseum.fan_genres is
  'Per fan and genre: the undecayed sum of tier weights of the fan''s A mutations that carry that genre.';

------------------------------------------------------------------------------
-- Mutations: what each entry contributed, per domain
------------------------------------------------------------------------------

create table public.coliseum_dna_mutations (
  id bigint generated always as identity primary key,
  -- The passport entry it comes from. No declared foreign key: the log never
  -- loses a row nor changes an id (append-only for every role), and the check
  -- would cost a lookup and a row lock per mutation in the processor's path.
  entry_id bigint not null,
  artist_id uuid not null,
  domain text not null check (domain in ('A', 'T', 'G', 'C')),
  fan_id uuid not null,
  kind text not null,
  occurred_at timestamptz not null check (isfinite(occurred_at)),
  tier smallint not null check (tier between 1 and 5),
  weight double precision not null,
  amount_usd_cents bigint,
  genre text,
  city text,
  country char(2),
  rules_version int not null references coliseum.rules_versions (version),
  processed_at timestamptz not null default now(),
  constraint coliseum_dna_mutations_entry_domain_key unique (entry_id, domain),
  check (amount_usd_cents is null or domain = 'G')
);

comment on table public.coliseum_dna_mutations is
  'Coliseum: one row per (passport entry, domain) the entry feeds. weight = the tier multiplier; decay is applied '
  'when scoring. Append-only: UPDATE and DELETE are refused; TRUNCATE only inside coliseum.rebuild().';
comment on column public.coliseum_dna_mutations.weight is 'coliseum.tier_multiplier(tier) under rules_version; recency decay is applied at scoring time.';
comment on column public.coliseum_dna_mutations.amount_usd_cents is 'G only: the payload amount in US cents (coliseum.currency_rates); negative for refunds; null when it is no revenue.';

-- Refreshing one artist reads only that artist's rows, newest window first.
create index coliseum_dna_mutations_artist_idx
  on public.coliseum_dna_mutations (artist_id, occurred_at);

-- The fan's home as of an entry is the latest profile.location_set logged
-- before it: a small index over those entries only.
create index passport_entries_location_set_idx
  on public.passport_entries (user_id, id)
  where kind = 'profile.location_set';

------------------------------------------------------------------------------
-- Running aggregates: what scoring reads instead of the mutations
------------------------------------------------------------------------------

-- Scoring an artist must not cost more as their history grows: the processor
-- folds each new mutation into these aggregates in the same statement that
-- stores it, and the refresh reads the aggregates, not the mutations (except
-- the events of the few hours that straddle a window or decay edge). Every
-- sum is an integer (weights in tenths of a unit, times in µs), so the
-- scores stay exact whatever order the mutations were folded in.

-- Per artist, UTC hour, domain and (domain A) the event's genre.
create table coliseum_private.dna_hours (
  artist_id uuid not null,
  hour timestamptz not null,
  domain text not null,
  genre text not null,              -- A: the payload's genre, '' when none; '' in other domains
  mutations bigint not null,
  entries bigint not null,          -- mutations of their kind's first domain: one per entry
  units bigint not null,            -- sum of coliseum.tier_units(tier)
  unit_micros numeric not null,     -- sum of units x (occurred_at - hour) in µs
  influence_units bigint not null,  -- A, tier 3 and up
  influence_unit_micros numeric not null,
  touring_units bigint not null,    -- C, the touring kinds
  touring_unit_micros numeric not null,
  plays bigint not null,            -- T: audio.play, audio.complete
  cents numeric not null,           -- G: sum of amount_usd_cents
  transactions bigint not null,     -- G: amounts > 0
  attendance bigint not null,       -- C: concierto.event_attended
  first_at timestamptz not null,
  last_at timestamptz not null,
  primary key (artist_id, hour, domain, genre)
) with (fillfactor = 70);

comment on table coliseum_private.dna_hours is
  'Per artist, UTC hour, domain and genre: integer sums of the mutations (derived; coliseum.rebuild() recomputes it).';

-- The same sums over all time, per artist, domain and genre.
create table coliseum_private.dna_totals (
  artist_id uuid not null,
  domain text not null,
  genre text not null,
  mutations bigint not null,
  entries bigint not null,
  units bigint not null,
  influence_units bigint not null,
  touring_units bigint not null,
  plays bigint not null,
  cents numeric not null,
  transactions bigint not null,
  attendance bigint not null,
  primary key (artist_id, domain, genre)
) with (fillfactor = 70);

comment on table coliseum_private.dna_totals is
  'Per artist, domain and genre: the all-time sums of coliseum_private.dna_hours (derived).';

-- Per artist and fan: when the fan last did each thing. A fan counts in a
-- window when that time is inside it. t_prev is the latest T activity on a
-- UTC day before the day of last_t: the fan was active on two days or more
-- within a window exactly when t_prev is inside it.
create table coliseum_private.artist_fans (
  artist_id uuid not null,
  fan_id uuid not null,
  last_any timestamptz not null,
  last_a timestamptz,
  last_t timestamptz,
  last_g timestamptz,
  last_c timestamptz,
  last_converted timestamptz,       -- follow, purchase, membership, tip, ticket, attendance
  t_prev timestamptz,
  primary key (artist_id, fan_id)
) with (fillfactor = 70);

comment on table coliseum_private.artist_fans is
  'Per artist and fan: the last time of each kind of activity (derived; the distinct-fan counts of every window).';

-- Per artist, place and fan (C mutations with a city or a country): when the
-- fan was last there.
create table coliseum_private.artist_places (
  artist_id uuid not null,
  country text not null,            -- '' when unknown
  city text not null,               -- '' when unknown
  fan_id uuid not null,
  last_at timestamptz not null,
  primary key (artist_id, country, city, fan_id)
) with (fillfactor = 70);

comment on table coliseum_private.artist_places is
  'Per artist, (country, city) and fan: the fan''s last C activity there (derived; reach and city distribution).';

------------------------------------------------------------------------------
-- Strength: the scores the boards rank
------------------------------------------------------------------------------

create table public.coliseum_domain_strength (
  artist_id uuid not null,
  domain text not null check (domain in ('A', 'T', 'G', 'C', 'overall')),
  period text not null check (period in ('7d', '30d', 'alltime')),
  score double precision not null check (score between 0 and 100),
  raw double precision not null,
  components jsonb not null,
  events bigint not null,
  fans bigint not null,
  computed_at timestamptz not null,
  primary key (artist_id, domain, period)
) with (fillfactor = 70); -- room on the page: rewriting a row whose score moved is a HOT update

comment on table public.coliseum_domain_strength is
  'Coliseum: per artist, domain (A, T, G, C, overall) and period (7d, 30d, alltime) the score 0..100, the raw '
  'strength it comes from and its components. Written only by the refresh, and only where a value changed '
  '(Realtime streams every write); 15 rows per artist with any mutation.';
comment on column public.coliseum_domain_strength.computed_at is
  'The as_of of the refresh that last changed this row (a refresh that finds the same values writes nothing).';

create index coliseum_domain_strength_board_idx
  on public.coliseum_domain_strength (domain, period, score desc, artist_id);
-- When each artist was last refreshed, whether or not a score changed:
-- refresh_due picks the artists refreshed longest ago. Kept apart from the
-- strength rows, which are written only when a value changes.
create table coliseum_private.artist_refreshes (
  artist_id uuid primary key,
  refreshed_at timestamptz not null
) with (fillfactor = 70);

comment on table coliseum_private.artist_refreshes is
  'Per artist: the as_of of its last refresh (derived; what coliseum.refresh_due orders by).';

create index artist_refreshes_due_idx on coliseum_private.artist_refreshes (refreshed_at);

create table coliseum.strength_history (
  day date not null,
  artist_id uuid not null,
  domain text not null check (domain in ('A', 'T', 'G', 'C', 'overall')),
  period text not null check (period in ('7d', '30d', 'alltime')),
  score double precision not null,
  raw double precision not null,
  primary key (artist_id, domain, period, day)
) with (fillfactor = 70);

comment on table coliseum.strength_history is
  'The last computed score of each UTC day per artist, domain and period (the refresh upserts the day''s row).';

create table coliseum.notifications (
  id bigint generated always as identity primary key,
  artist_id uuid not null,
  domain text not null check (domain in ('A', 'T', 'G', 'C')),
  period text not null check (period in ('7d', '30d', 'alltime')),
  previous_score double precision not null,
  score double precision not null,
  delta double precision not null,
  message text not null,
  created_at timestamptz not null default now(),
  read_at timestamptz
);

comment on table coliseum.notifications is
  'One row when an artist''s 30d score in a domain rises by at least 0.5 in one refresh. Only the artist reads it.';

create index notifications_artist_idx on coliseum.notifications (artist_id, created_at desc);

------------------------------------------------------------------------------
-- Live updates. Only the refresh and the processor (security definer)
-- write; the API roles read under row level security (sql/coliseum/*.policies.sql).
------------------------------------------------------------------------------

-- Live updates: Supabase Realtime streams row changes of these tables, each
-- subscriber seeing the rows its RLS allows.
alter publication supabase_realtime add table public.coliseum_domain_strength, coliseum.notifications;

------------------------------------------------------------------------------
-- Freshness: what drives the processor (docs/coliseum-dna.md, "Freshness")
------------------------------------------------------------------------------

-- The safety net, everywhere: whatever the fast path missed, and the
-- re-scoring of artists whose windows and decay moved on. Where pg_coliseum
-- is installed it also (re)starts the extension's background processor, the
-- fast path, after a restart or a crash; the check runs at each tick, so the
-- job keeps working if the extension is added or dropped later, and a worker
-- that cannot start (a bad setting) is a warning, never a skipped safety net.
select cron.schedule(
  'coliseum-process',
  '* * * * *',
  $cmd$do $$ begin if to_regprocedure('coliseum.start_processor()') is not null then perform coliseum.start_processor(); end if; exception when others then raise warning 'coliseum: the processor worker could not start: %', sqlerrm; end $$; select coliseum.process_pending(50000); select coliseum.refresh_due();$cmd$
);

-- Hosted Supabase cannot run the extension's processor; pg_cron 1.5 and later
-- schedule a job every second instead, which is the fast path there.
do $$
begin
  if not exists (select from pg_extension where extname = 'pg_coliseum')
     and (select string_to_array(split_part(extversion, '-', 1), '.')::int[] >= '{1,5}'
          from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('coliseum-fast-path', '1 seconds', 'select coliseum.process_pending(10000)');
  end if;
end
$$;
