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

-- Append-only below every role, like passport_entries. coliseum.rebuild()
-- marks its transaction so that its TRUNCATE passes.
create function coliseum_private.guard_mutations()
returns trigger
language plpgsql
as $$
begin
  if tg_op = 'TRUNCATE'
     and current_setting('buckets.coliseum_rebuild', true) = txid_current()::text then
    return null;
  end if;
  raise exception using
    errcode = '42501',
    message = format('coliseum_dna_mutations is append-only: %s is refused', tg_op),
    hint = 'Mutations are derived from the Passport log; coliseum.rebuild() recomputes them all.';
end
$$;

create trigger coliseum_dna_mutations_append_only
  before update or delete or truncate on public.coliseum_dna_mutations
  for each statement execute function coliseum_private.guard_mutations();
alter table public.coliseum_dna_mutations enable always trigger coliseum_dna_mutations_append_only;

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

alter table coliseum_private.dna_hours enable row level security;
alter table coliseum_private.dna_totals enable row level security;
alter table coliseum_private.artist_fans enable row level security;
alter table coliseum_private.artist_places enable row level security;
revoke all on coliseum_private.dna_hours, coliseum_private.dna_totals, coliseum_private.artist_fans,
  coliseum_private.artist_places from anon, authenticated, service_role;

-- What a mutation adds to the aggregates besides its weight: a SQL function
-- the planner inlines into the processor's and the refresh's statements, so
-- the two read the rules from one place.
create function coliseum_private.mutation_facts(domain text, kind text, tier smallint, amount_usd_cents bigint, genre text)
returns table (
  genre_key text,
  entry int,
  units bigint,
  influence boolean,
  touring boolean,
  play int,
  transaction int,
  attended int,
  converts boolean
)
language sql
stable
as $$
  select
    case when domain = 'A' then coalesce(genre, '') else '' end,
    (domain = (select min(d) from unnest(k.domains) as d))::int,
    coliseum.tier_units(tier),
    domain = 'A' and tier >= 3,
    domain = 'C' and kind in ('concierto.event_attended', 'concierto.ticket_validated',
                              'concierto.ticket_purchased', 'concierto.event_rsvp'),
    (domain = 'T' and kind in ('audio.play', 'audio.complete'))::int,
    (domain = 'G' and coalesce(amount_usd_cents > 0, false))::int,
    (domain = 'C' and kind = 'concierto.event_attended')::int,
    kind in ('social.follow', 'concierto.ticket_purchased', 'concierto.event_attended', 'membership.started',
             'membership.renewed', 'drop.purchased', 'merch.purchased', 'tip.sent', 'treasury.money_spent')
  from passport.event_kinds as k
  where k.name = mutation_facts.kind
$$;

-- Where a time falls as seen at as_of (edges in exact hours, like the decay):
-- 0 after as_of; 1 the last 7 days; 2 from 27 to 7 days ago (both linear
-- decay); 3 from 30 to 27 days ago (the floor); 4 older. Cells 0-1 are band
-- 0 (the 7d window), 2-3 band 1 (the rest of 30d), 4 band 2. A time exactly
-- 7 days old is in band 1, exactly 30 days old in band 2.
create function coliseum_private.cell(t timestamptz, as_of timestamptz)
returns int
language sql
immutable
as $$
  select case when t > as_of then 0
              when t > as_of - interval '168 hours' then 1
              when t >= as_of - interval '648 hours' then 2
              when t > as_of - interval '720 hours' then 3
              else 4 end
$$;

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

alter table coliseum_private.artist_refreshes enable row level security;
revoke all on coliseum_private.artist_refreshes from anon, authenticated, service_role;

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
-- Privileges and row level security. Only the refresh and the processor
-- (security definer) write; the API roles read under RLS.
------------------------------------------------------------------------------

alter table coliseum.rules_versions enable row level security;
alter table coliseum.currency_rates enable row level security;
alter table coliseum.fans enable row level security;
alter table coliseum.fan_genres enable row level security;
alter table public.coliseum_dna_mutations enable row level security;
alter table public.coliseum_domain_strength enable row level security;
alter table coliseum.strength_history enable row level security;
alter table coliseum.notifications enable row level security;

revoke all on public.coliseum_dna_mutations, public.coliseum_domain_strength
  from anon, authenticated, service_role;
revoke all on sequence public.coliseum_dna_mutations_id_seq from anon, authenticated, service_role;

-- Reference data: public.
grant select on coliseum.rules_versions, coliseum.currency_rates to anon, authenticated, service_role;
create policy rules_versions_are_public on coliseum.rules_versions
  for select to anon, authenticated, service_role using (true);
create policy currency_rates_are_public on coliseum.currency_rates
  for select to anon, authenticated, service_role using (true);
-- Rates are operator-maintained.
grant insert, update, delete on coliseum.currency_rates to service_role;

-- A fan reads what Coliseum knows of them.
grant select on coliseum.fans, coliseum.fan_genres to authenticated, service_role;
create policy fans_own_row on coliseum.fans
  for select to authenticated using (fan_id = (select auth.uid()));
create policy fan_genres_own_rows on coliseum.fan_genres
  for select to authenticated using (fan_id = (select auth.uid()));

-- An artist reads the mutations made for them.
grant select on public.coliseum_dna_mutations to authenticated, service_role;
create policy mutations_artist_reads on public.coliseum_dna_mutations
  for select to authenticated using (artist_id = (select auth.uid()));

-- Strength: which rows each plan sees is the boards' policy
-- (20261122000700_coliseum_boards.sql); until a policy allows it the API
-- roles see no row.
grant select on public.coliseum_domain_strength to anon, authenticated, service_role;

grant select on coliseum.strength_history to service_role;

-- The artist reads their notifications and may mark them read.
grant select on coliseum.notifications to authenticated, service_role;
grant update (read_at) on coliseum.notifications to authenticated;
create policy notifications_artist_reads on coliseum.notifications
  for select to authenticated using (artist_id = (select auth.uid()));
create policy notifications_artist_marks_read on coliseum.notifications
  for update to authenticated
  using (artist_id = (select auth.uid()))
  with check (artist_id = (select auth.uid()));

-- Live updates: Supabase Realtime streams row changes of these tables, each
-- subscriber seeing the rows its RLS allows.
alter publication supabase_realtime add table public.coliseum_domain_strength, coliseum.notifications;
------------------------------------------------------------------------------
-- Deriving mutations from entries
------------------------------------------------------------------------------

-- An amount in minor units of a currency as US cents, rounded half away from
-- zero; null for a currency without a reference rate, and for a result
-- beyond bigint (an absurd amount must not stop the processor).
create function coliseum_private.usd_cents(amount_minor bigint, currency text)
returns bigint
language sql
stable
parallel safe
as $$
  select (select case when abs(c.cents) <= 9223372036854775807 then c.cents::bigint end
          from coliseum.currency_rates as r
          cross join lateral (select round(amount_minor * r.usd_per_unit * 100 / 10::numeric ^ r.minor_exponent) as cents) as c
          where r.currency = usd_cents.currency)
$$;

comment on function coliseum_private.usd_cents(bigint, text) is
  'amount_minor of currency in US cents by coliseum.currency_rates (half away from zero); null when the currency has no rate.';

-- The mutations one entry makes, before they are stored: one per domain of
-- its kind when the entry counts (it names an artist and reaches the kind's
-- DNA threshold). Place: the payload's city and country when it has either,
-- else the fan's home as of the entry (the latest profile.location_set logged
-- before it), so that the result depends on the log alone, not on when or in
-- which batch the entry is folded. A SQL function the planner inlines into the
-- caller's statement.
create function coliseum_private.mutations_of(e public.passport_entries)
returns table (
  entry_id bigint,
  artist_id uuid,
  domain text,
  fan_id uuid,
  kind text,
  occurred_at timestamptz,
  tier smallint,
  weight double precision,
  amount_usd_cents bigint,
  genre text,
  city text,
  country char(2),
  rules_version int
)
language sql
stable
as $$
  select
    e.id,
    e.artist_id,
    d.domain,
    e.user_id,
    e.kind,
    -- An event cannot have happened after the database received it: a
    -- producer's clock ahead of ours counts as the moment of receipt.
    least(e.occurred_at, e.received_at),
    k.tier,
    coliseum.tier_multiplier(k.tier),
    case
      -- The payee's share of a payment and a brand's budget are no revenue of the artist.
      when d.domain <> 'G' or e.kind in ('treasury.money_earned', 'companon.campaign_launched') then null
      when e.kind = 'treasury.refund' then
        -coliseum_private.usd_cents(passport_private.json_i64(e.payload -> 'amount_minor'), e.payload ->> 'currency')
      else coliseum_private.usd_cents(passport_private.json_i64(e.payload -> 'amount_minor'), e.payload ->> 'currency')
    end,
    e.payload ->> 'genre',
    case when place.own then e.payload ->> 'city' else home.city end,
    left(case when place.own then e.payload ->> 'country' else home.country end, 2),
    1 -- rules version 1: catalog tiers, 30-day decay, the catalog's thresholds
  from passport.event_kinds as k
  cross join lateral (select e.payload ?| array['city', 'country'] as own) as place
  left join lateral (
    select l.payload ->> 'city' as city, l.payload ->> 'country' as country
    from public.passport_entries as l
    where not place.own
      and l.user_id = e.user_id
      and l.kind = 'profile.location_set'
      and l.id < e.id
    order by l.id desc
    limit 1
  ) as home on true
  cross join lateral unnest(k.domains) as d(domain)
  where k.name = e.kind
    and e.artist_id is not null
    and (k.dna_threshold_field is null
         or passport_private.json_i64(e.payload -> k.dna_threshold_field) >= k.dna_threshold_min)
$$;

comment on function coliseum_private.mutations_of(public.passport_entries) is
  'The mutations a passport entry makes (one per domain of its kind when it counts), not yet stored.';

-- Folds a batch of entries into DNA: stores their mutations (an entry already
-- folded adds nothing), adds what the new mutations carry to the running
-- aggregates (hours, totals, fans, places), adds the genre weights of the new
-- A mutations to fan_genres and takes the fans' latest home and declared
-- genre. Returns the artists that got new mutations. Entries need not be
-- pending: rebuild folds the whole log through here. Callers hold the refresh
-- lock, so folds never run side by side.
create function coliseum_private.fold_entries(entry_ids bigint[])
returns uuid[]
language sql
volatile
as $$
  with batch as (
    select e.* from public.passport_entries as e where e.id = any (entry_ids)
  ),
  stored as (
    insert into public.coliseum_dna_mutations
      (entry_id, artist_id, domain, fan_id, kind, occurred_at, tier, weight, amount_usd_cents, genre, city, country, rules_version)
    select m.*
    from batch as b
    cross join lateral coliseum_private.mutations_of(b) as m
    order by m.entry_id, m.domain
    on conflict on constraint coliseum_dna_mutations_entry_domain_key do nothing
    returning artist_id, fan_id, domain, kind, tier, occurred_at, weight, amount_usd_cents, genre, city, country
  ),
  facts as materialized (
    select
      s.*, f.*,
      date_trunc('hour', s.occurred_at, 'UTC') as hour,
      (s.occurred_at at time zone 'UTC')::date as day
    from stored as s
    cross join lateral coliseum_private.mutation_facts(s.domain, s.kind, s.tier, s.amount_usd_cents, s.genre) as f
  ),
  timed as (
    select
      f.*,
      f.units * ((extract(epoch from f.occurred_at) - extract(epoch from f.hour)) * 1000000)::bigint as unit_micros
    from facts as f
  ),
  hours as (
    insert into coliseum_private.dna_hours as h
      (artist_id, hour, domain, genre, mutations, entries, units, unit_micros, influence_units, influence_unit_micros,
       touring_units, touring_unit_micros, plays, cents, transactions, attendance, first_at, last_at)
    select
      t.artist_id, t.hour, t.domain, t.genre_key,
      count(*), sum(t.entry), sum(t.units), sum(t.unit_micros),
      coalesce(sum(t.units) filter (where t.influence), 0), coalesce(sum(t.unit_micros) filter (where t.influence), 0),
      coalesce(sum(t.units) filter (where t.touring), 0), coalesce(sum(t.unit_micros) filter (where t.touring), 0),
      sum(t.play), coalesce(sum(t.amount_usd_cents), 0), sum(t.transaction), sum(t.attended),
      min(t.occurred_at), max(t.occurred_at)
    from timed as t
    group by t.artist_id, t.hour, t.domain, t.genre_key
    order by t.artist_id, t.hour, t.domain, t.genre_key
    on conflict (artist_id, hour, domain, genre) do update set
      mutations = h.mutations + excluded.mutations,
      entries = h.entries + excluded.entries,
      units = h.units + excluded.units,
      unit_micros = h.unit_micros + excluded.unit_micros,
      influence_units = h.influence_units + excluded.influence_units,
      influence_unit_micros = h.influence_unit_micros + excluded.influence_unit_micros,
      touring_units = h.touring_units + excluded.touring_units,
      touring_unit_micros = h.touring_unit_micros + excluded.touring_unit_micros,
      plays = h.plays + excluded.plays,
      cents = h.cents + excluded.cents,
      transactions = h.transactions + excluded.transactions,
      attendance = h.attendance + excluded.attendance,
      first_at = least(h.first_at, excluded.first_at),
      last_at = greatest(h.last_at, excluded.last_at)
  ),
  totals as (
    insert into coliseum_private.dna_totals as o
      (artist_id, domain, genre, mutations, entries, units, influence_units, touring_units, plays, cents, transactions,
       attendance)
    select
      f.artist_id, f.domain, f.genre_key,
      count(*), sum(f.entry), sum(f.units),
      coalesce(sum(f.units) filter (where f.influence), 0), coalesce(sum(f.units) filter (where f.touring), 0),
      sum(f.play), coalesce(sum(f.amount_usd_cents), 0), sum(f.transaction), sum(f.attended)
    from facts as f
    group by f.artist_id, f.domain, f.genre_key
    order by f.artist_id, f.domain, f.genre_key
    on conflict (artist_id, domain, genre) do update set
      mutations = o.mutations + excluded.mutations,
      entries = o.entries + excluded.entries,
      units = o.units + excluded.units,
      influence_units = o.influence_units + excluded.influence_units,
      touring_units = o.touring_units + excluded.touring_units,
      plays = o.plays + excluded.plays,
      cents = o.cents + excluded.cents,
      transactions = o.transactions + excluded.transactions,
      attendance = o.attendance + excluded.attendance
  ),
  -- Per artist and fan, the batch's own last times; its t_prev is the latest
  -- T time on a day before the day of its last_t.
  fan_last as (
    select
      f.artist_id, f.fan_id,
      max(f.occurred_at) as last_any,
      max(f.occurred_at) filter (where f.domain = 'A') as last_a,
      max(f.occurred_at) filter (where f.domain = 'T') as last_t,
      max(f.occurred_at) filter (where f.domain = 'G') as last_g,
      max(f.occurred_at) filter (where f.domain = 'C') as last_c,
      max(f.occurred_at) filter (where f.converts) as last_converted,
      max(f.day) filter (where f.domain = 'T') as last_t_day
    from facts as f
    group by f.artist_id, f.fan_id
  ),
  fan_prev as (
    select f.artist_id, f.fan_id, max(f.occurred_at) as t_prev
    from facts as f
    join fan_last as l on l.artist_id = f.artist_id and l.fan_id = f.fan_id
    where f.domain = 'T' and f.day < l.last_t_day
    group by f.artist_id, f.fan_id
  ),
  fan_rows as (
    select l.artist_id, l.fan_id, l.last_any, l.last_a, l.last_t, l.last_g, l.last_c, l.last_converted, p.t_prev
    from fan_last as l
    left join fan_prev as p on p.artist_id = l.artist_id and p.fan_id = l.fan_id
  ),
  fans_merged as (
    insert into coliseum_private.artist_fans as a
      (artist_id, fan_id, last_any, last_a, last_t, last_g, last_c, last_converted, t_prev)
    select r.artist_id, r.fan_id, r.last_any, r.last_a, r.last_t, r.last_g, r.last_c, r.last_converted, r.t_prev
    from fan_rows as r
    order by r.artist_id, r.fan_id
    on conflict (artist_id, fan_id) do update set
      last_any = greatest(a.last_any, excluded.last_any),
      last_a = greatest(a.last_a, excluded.last_a),
      last_t = greatest(a.last_t, excluded.last_t),
      last_g = greatest(a.last_g, excluded.last_g),
      last_c = greatest(a.last_c, excluded.last_c),
      last_converted = greatest(a.last_converted, excluded.last_converted),
      -- Two (last_t, t_prev) pairs merge into the pair of their union.
      t_prev = case
        when a.last_t is null then excluded.t_prev
        when excluded.last_t is null then a.t_prev
        when (a.last_t at time zone 'UTC')::date = (excluded.last_t at time zone 'UTC')::date
          then greatest(a.t_prev, excluded.t_prev)
        when a.last_t > excluded.last_t then greatest(a.t_prev, excluded.last_t)
        else greatest(excluded.t_prev, a.last_t)
      end
  ),
  places as (
    insert into coliseum_private.artist_places as p (artist_id, country, city, fan_id, last_at)
    select f.artist_id, coalesce(f.country, ''), coalesce(f.city, ''), f.fan_id, max(f.occurred_at)
    from facts as f
    where f.domain = 'C' and (f.city is not null or f.country is not null)
    group by f.artist_id, coalesce(f.country, ''), coalesce(f.city, ''), f.fan_id
    order by 1, 2, 3, 4
    on conflict (artist_id, country, city, fan_id) do update set last_at = greatest(p.last_at, excluded.last_at)
  ),
  genres as (
    insert into coliseum.fan_genres as g (fan_id, genre, weight)
    select s.fan_id, s.genre, sum(s.weight)
    from stored as s
    where s.domain = 'A' and s.genre is not null
    group by s.fan_id, s.genre
    order by s.fan_id, s.genre
    on conflict (fan_id, genre) do update set weight = g.weight + excluded.weight
  ),
  profiles as (
    insert into coliseum.fans as f
      (fan_id, home_city, home_country, location_entry_id, declared_genre, genre_entry_id)
    select
      b.user_id,
      (array_agg(b.payload ->> 'city' order by b.id desc) filter (where b.kind = 'profile.location_set'))[1],
      left((array_agg(b.payload ->> 'country' order by b.id desc) filter (where b.kind = 'profile.location_set'))[1], 2),
      max(b.id) filter (where b.kind = 'profile.location_set'),
      (array_agg(b.payload ->> 'genre' order by b.id desc) filter (where b.kind = 'profile.genre_preference_set'))[1],
      max(b.id) filter (where b.kind = 'profile.genre_preference_set')
    from batch as b
    where b.kind in ('profile.location_set', 'profile.genre_preference_set')
    group by b.user_id
    order by b.user_id
    on conflict (fan_id) do update set
      home_city = case when excluded.location_entry_id > coalesce(f.location_entry_id, 0)
                       then excluded.home_city else f.home_city end,
      home_country = case when excluded.location_entry_id > coalesce(f.location_entry_id, 0)
                          then excluded.home_country else f.home_country end,
      location_entry_id = greatest(f.location_entry_id, excluded.location_entry_id),
      declared_genre = case when excluded.genre_entry_id > coalesce(f.genre_entry_id, 0)
                            then excluded.declared_genre else f.declared_genre end,
      genre_entry_id = greatest(f.genre_entry_id, excluded.genre_entry_id),
      updated_at = now()
  )
  select coalesce(array_agg(distinct s.artist_id), '{}') from stored as s
$$;

------------------------------------------------------------------------------
-- Scoring
------------------------------------------------------------------------------

-- The refresh reads under an advisory lock what other processors committed
-- after the caller's transaction began: only READ COMMITTED gives each
-- statement a fresh snapshot. process_pending and rebuild refuse anything else.
create function coliseum_private.require_read_committed(caller text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception using
      errcode = '25000',
      message = format('%s runs under READ COMMITTED only', caller),
      hint = 'Call it in a READ COMMITTED transaction (the default).';
  end if;
end
$$;

-- Recomputes the 3 periods x (4 domains + overall) of the given artists as of
-- as_of, in one statement, and stores them: coliseum_domain_strength (only
-- the rows whose values changed: Realtime sends every row written), the
-- artists' refresh time, the
-- day's strength_history row, a notification per 30d domain score that rose
-- by 0.5 or more, and NOTIFY coliseum_strength with the rows whose score
-- changed. Refreshes run one at a time (a transaction-scoped advisory lock,
-- taken before the statement that reads, so its snapshot holds every mutation
-- committed by the refreshes before it). announce = false (rebuild) writes no
-- notification and sends no NOTIFY.
--
-- It reads the running aggregates (coliseum_private.dna_hours and friends),
-- never the whole history: per artist, the hour buckets of the last 30 days,
-- the all-time totals, one row per fan and per (place, fan), and the events
-- of the hours that straddle an edge of the windows or of the decay.
create function coliseum_private.refresh_artists(artists uuid[], as_of timestamptz, announce boolean default true)
returns int
language plpgsql
volatile
-- One statement over many rows: hash tables in memory, no JIT start-up.
set work_mem = '64MB'
set jit = off
as $$
declare
  refreshed int;
begin
  if as_of is null or not isfinite(as_of) then
    raise exception using errcode = '22023', message = 'as_of must be a finite timestamp';
  end if;
  if coalesce(cardinality(artists), 0) = 0 then
    return 0;
  end if;
  -- 'Coli' 'Rfsh'
  perform pg_advisory_xact_lock(1131375721, 1382446952);

  with targets as (
    select distinct t.artist_id from unnest(artists) as t(artist_id) where t.artist_id is not null
  ),
  -- The windows nest: 7d within 30d within alltime. Each event falls in one
  -- band: 0 = the last 7 days, 1 = the 23 days before, 2 = older; a window
  -- is the bands up to its last one, and holds the times after its cutoff.
  -- Edges are exclusive: an event exactly 7 days old is in band 1.
  periods (period, last_band, cutoff) as (
    values ('7d', 0, as_of - interval '168 hours'),
           ('30d', 1, as_of - interval '720 hours'),
           ('alltime', 2, '-infinity'::timestamptz)
  ),
  -- The hour buckets from the hour holding the 30-day edge on, each with the
  -- cells of its first and last event (coliseum_private.cell). Everything
  -- before them is band 2 at the decay floor.
  hours as materialized (
    select
      h.*,
      coliseum_private.cell(h.first_at, as_of) as first_cell,
      coliseum_private.cell(h.last_at, as_of) as last_cell
    from targets as t
    cross join lateral (
      select * from coliseum_private.dna_hours as h
      where h.artist_id = t.artist_id and h.hour >= date_trunc('hour', as_of - interval '720 hours', 'UTC')
      offset 0 -- one index range per artist
    ) as h
  ),
  -- Hours whose events straddle an edge: their events are read one by one.
  mixed as (
    select distinct h.artist_id, h.hour from hours as h where h.first_cell <> h.last_cell
  ),
  -- What each band holds, per domain and genre, from three sources that do
  -- not overlap: the clean hour buckets, the events of mixed hours, and the
  -- all-time totals minus the hours read. Decayed weights are exact integers
  -- in units x µs (coliseum.decayed_units); any order of rows gives the same sums.
  parts as (
    select
      h.artist_id, case when h.first_cell <= 1 then 0 when h.first_cell <= 3 then 1 else 2 end as band,
      h.domain, h.genre, h.mutations, h.entries,
      coliseum.bucket_decayed_units(h.units, h.unit_micros, h.hour, h.first_at, h.last_at, as_of) as decayed,
      coliseum.bucket_decayed_units(h.influence_units, h.influence_unit_micros, h.hour, h.first_at, h.last_at, as_of)
        as influence,
      coliseum.bucket_decayed_units(h.touring_units, h.touring_unit_micros, h.hour, h.first_at, h.last_at, as_of)
        as touring,
      h.plays, h.cents, h.transactions, h.attendance
    from hours as h
    where h.first_cell = h.last_cell
      and not exists (select from mixed as x where x.artist_id = h.artist_id and x.hour = h.hour)
    union all
    select
      m.artist_id, case when c.cell <= 1 then 0 when c.cell <= 3 then 1 else 2 end,
      m.domain, f.genre_key, 1, f.entry, c.decayed,
      case when f.influence then c.decayed else 0 end,
      case when f.touring then c.decayed else 0 end,
      f.play, coalesce(m.amount_usd_cents, 0), f.transaction, f.attended
    from mixed as x
    cross join lateral (
      select * from public.coliseum_dna_mutations as m
      where m.artist_id = x.artist_id and m.occurred_at >= x.hour and m.occurred_at < x.hour + interval '1 hour'
      offset 0
    ) as m
    cross join lateral coliseum_private.mutation_facts(m.domain, m.kind, m.tier, m.amount_usd_cents, m.genre) as f
    cross join lateral (select coliseum_private.cell(m.occurred_at, as_of) as cell,
                               coliseum.decayed_units(m.tier, m.occurred_at, as_of)::numeric as decayed) as c
    union all
    -- Older than every hour read: all at the floor; any time before the
    -- first hour read stands for them in bucket_decayed_units.
    select
      o.artist_id, 2, o.domain, o.genre, o.mutations - coalesce(r.mutations, 0), o.entries - coalesce(r.entries, 0),
      coliseum.bucket_decayed_units(o.units - coalesce(r.units, 0), 0, x.old, x.old, x.old, as_of),
      coliseum.bucket_decayed_units(o.influence_units - coalesce(r.influence_units, 0), 0, x.old, x.old, x.old, as_of),
      coliseum.bucket_decayed_units(o.touring_units - coalesce(r.touring_units, 0), 0, x.old, x.old, x.old, as_of),
      o.plays - coalesce(r.plays, 0), o.cents - coalesce(r.cents, 0),
      o.transactions - coalesce(r.transactions, 0), o.attendance - coalesce(r.attendance, 0)
    from targets as t
    join coliseum_private.dna_totals as o on o.artist_id = t.artist_id
    left join (
      select h.artist_id, h.domain, h.genre, sum(h.mutations) as mutations, sum(h.entries) as entries,
             sum(h.units) as units, sum(h.influence_units) as influence_units, sum(h.touring_units) as touring_units,
             sum(h.plays) as plays, sum(h.cents) as cents, sum(h.transactions) as transactions,
             sum(h.attendance) as attendance
      from hours as h
      group by h.artist_id, h.domain, h.genre
    ) as r on r.artist_id = o.artist_id and r.domain = o.domain and r.genre = o.genre
    cross join (select date_trunc('hour', as_of - interval '720 hours', 'UTC') - interval '1 microsecond' as old) as x
    where o.mutations > coalesce(r.mutations, 0)
  ),
  -- Everything additive, per band, then per window.
  band_sums as (
    select
      p.artist_id, p.band,
      sum(p.entries) as entries,
      sum(p.decayed) as engagement,
      sum(p.mutations) filter (where p.domain = 'A') as events_a,
      sum(p.decayed) filter (where p.domain = 'A') as e_a,
      sum(p.influence) filter (where p.domain = 'A') as influence,
      sum(p.mutations) filter (where p.domain = 'T') as events_t,
      sum(p.decayed) filter (where p.domain = 'T') as e_t,
      sum(p.plays) filter (where p.domain = 'T') as plays,
      sum(p.mutations) filter (where p.domain = 'G') as events_g,
      sum(p.decayed) filter (where p.domain = 'G') as e_g,
      sum(p.cents) filter (where p.domain = 'G') as revenue,
      sum(p.transactions) filter (where p.domain = 'G') as transactions,
      sum(p.mutations) filter (where p.domain = 'C') as events_c,
      sum(p.decayed) filter (where p.domain = 'C') as e_c,
      sum(p.touring) filter (where p.domain = 'C') as touring,
      sum(p.attendance) filter (where p.domain = 'C') as attendance
    from parts as p
    group by p.artist_id, p.band
  ),
  sums as (
    select
      b.artist_id, p.period,
      sum(b.entries) as entries, sum(b.engagement) as engagement,
      sum(b.events_a) as events_a, sum(b.e_a) as e_a, sum(b.influence) as influence,
      sum(b.events_t) as events_t, sum(b.e_t) as e_t, sum(b.plays) as plays,
      sum(b.events_g) as events_g, sum(b.e_g) as e_g, sum(b.revenue) as revenue, sum(b.transactions) as transactions,
      sum(b.events_c) as events_c, sum(b.e_c) as e_c, sum(b.touring) as touring, sum(b.attendance) as attendance
    from band_sums as b
    join periods as p on b.band <= p.last_band
    group by b.artist_id, p.period
  ),
  genres as (
    select
      g.artist_id, g.period,
      coliseum.normalized_entropy(array_agg(g.weight::double precision / 25920000000000 order by g.genre)) as diversity,
      (array_agg(g.genre order by g.weight desc, g.genre))[1] as main_genre
    from (select x.artist_id, p.period, x.genre, sum(x.decayed) as weight
          from parts as x
          join periods as p on x.band <= p.last_band
          where x.domain = 'A' and x.genre <> ''
          group by x.artist_id, p.period, x.genre) as g
    group by g.artist_id, g.period
  ),
  fan_rows as materialized (
    select f.*
    from targets as t
    cross join lateral (select * from coliseum_private.artist_fans as f where f.artist_id = t.artist_id offset 0) as f
  ),
  -- The home genre of every A fan: declared, else the genre of most weight.
  a_fans as (
    select distinct f.fan_id from fan_rows as f where f.last_a is not null
  ),
  top_genres as (
    select distinct on (fg.fan_id) fg.fan_id, fg.genre
    from coliseum.fan_genres as fg
    join a_fans as a on a.fan_id = fg.fan_id
    order by fg.fan_id, fg.weight desc, fg.genre
  ),
  homes as (
    select a.fan_id, coalesce(f.declared_genre, tg.genre) as home_genre
    from a_fans as a
    left join coliseum.fans as f on f.fan_id = a.fan_id
    left join top_genres as tg on tg.fan_id = a.fan_id
  ),
  -- A fan counts in a window when the time of the thing is after its cutoff.
  fans as (
    select
      f.artist_id, p.period,
      count(*) filter (where f.last_any > p.cutoff) as fans,
      count(*) filter (where f.last_a > p.cutoff) as fans_a,
      count(*) filter (where f.last_a > p.cutoff and h.home_genre is not null) as known_a,
      count(*) filter (where f.last_a > p.cutoff and h.home_genre <> g.main_genre) as crossing_a,
      count(*) filter (where f.last_t > p.cutoff) as fans_t,
      -- Active on two UTC days or more within the window.
      count(*) filter (where f.t_prev > p.cutoff) as returning_t,
      count(*) filter (where f.last_t > p.cutoff and f.last_converted > p.cutoff) as converted_t,
      count(*) filter (where f.last_g > p.cutoff) as fans_g,
      count(*) filter (where f.last_c > p.cutoff) as fans_c
    from fan_rows as f
    cross join periods as p
    left join homes as h on h.fan_id = f.fan_id
    left join genres as g on g.artist_id = f.artist_id and g.period = p.period
    group by f.artist_id, p.period
  ),
  place_rows as materialized (
    select x.*
    from targets as t
    cross join lateral (select * from coliseum_private.artist_places as x where x.artist_id = t.artist_id offset 0) as x
  ),
  city_fans as (
    select x.artist_id, p.period, x.country, x.city, count(*) as fans
    from place_rows as x
    join periods as p on x.last_at > p.cutoff
    where x.city <> ''
    group by x.artist_id, p.period, x.country, x.city
  ),
  cities as (
    select
      c.artist_id, c.period,
      count(*) as cities,
      1 - coliseum.concentration(array_agg(c.fans::double precision order by c.country, c.city)) as distribution,
      max(c.fans) as top_city_fans
    from city_fans as c
    group by c.artist_id, c.period
  ),
  countries as (
    select x.artist_id, p.period, count(distinct x.country) as countries
    from place_rows as x
    join periods as p on x.last_at > p.cutoff
    where x.country <> ''
    group by x.artist_id, p.period
  ),
  -- Every metric of an artist and window in one row; weights back in their
  -- units; no data is 0.
  metrics as (
    select
      t.artist_id, p.period,
      coalesce(s.engagement, 0)::double precision / 25920000000000 as engagement,
      coalesce(s.entries, 0) as entries,
      coalesce(f.fans, 0) as fans,
      -- A
      coalesce(s.events_a, 0) as events_a, coalesce(f.fans_a, 0) as fans_a,
      coalesce(s.e_a, 0)::double precision / 25920000000000 as e_a,
      coalesce(s.influence, 0)::double precision / 25920000000000 as influence,
      coalesce(g.diversity, 0) as diversity,
      coalesce(f.crossing_a::double precision / nullif(f.known_a, 0), 0) as crossover,
      g.main_genre,
      -- T
      coalesce(s.events_t, 0) as events_t, coalesce(f.fans_t, 0) as fans_t,
      coalesce(s.e_t, 0)::double precision / 25920000000000 as e_t,
      coalesce(f.returning_t::double precision / nullif(f.fans_t, 0), 0) as loyalty,
      coalesce(s.plays::double precision / nullif(f.fans_t, 0), 0) as repeat,
      coalesce(f.converted_t::double precision / nullif(f.fans_t, 0), 0) as conversion,
      -- G
      coalesce(s.events_g, 0) as events_g, coalesce(f.fans_g, 0) as fans_g,
      coalesce(s.e_g, 0)::double precision / 25920000000000 as e_g,
      coalesce(s.revenue, 0) as revenue, -- numeric: a sum of bigints may pass bigint
      coalesce(s.transactions, 0) as transactions,
      -- C
      coalesce(s.events_c, 0) as events_c, coalesce(f.fans_c, 0) as fans_c,
      coalesce(s.e_c, 0)::double precision / 25920000000000 as e_c,
      coalesce(ci.cities, 0) as cities,
      coalesce(co.countries, 0) as countries,
      coalesce(ci.distribution, 0) as distribution,
      coalesce(s.touring, 0)::double precision / 25920000000000 as touring,
      coalesce(s.attendance, 0) as attendance,
      coalesce(ci.top_city_fans::double precision / nullif(f.fans_c, 0), 0) as fan_density
    from targets as t
    cross join periods as p
    left join sums as s on s.artist_id = t.artist_id and s.period = p.period
    left join fans as f on f.artist_id = t.artist_id and f.period = p.period
    left join genres as g on g.artist_id = t.artist_id and g.period = p.period
    left join cities as ci on ci.artist_id = t.artist_id and ci.period = p.period
    left join countries as co on co.artist_id = t.artist_id and co.period = p.period
  ),
  domains as (
    select m.artist_id, m.period, d.domain, d.raw, coliseum.strength_score(d.raw) as score, d.components, d.events, d.fans
    from metrics as m
    cross join lateral (values
      ('A', m.e_a * (1 + m.diversity) * (1 + m.crossover),
       jsonb_build_object('engagement', m.e_a, 'influence', m.influence, 'genre_diversity', m.diversity,
                          'crossover', m.crossover, 'main_genre', m.main_genre),
       m.events_a, m.fans_a),
      ('T', m.e_t * (1 + m.loyalty) * (1 + m.conversion),
       jsonb_build_object('engagement', m.e_t, 'fans', m.fans_t, 'loyalty', m.loyalty, 'repeat', m.repeat,
                          'conversion', m.conversion),
       m.events_t, m.fans_t),
      ('G', m.e_g * (1 + log(1 + greatest(m.revenue, 0)::double precision / 100)),
       jsonb_build_object('engagement', m.e_g, 'revenue_usd_cents', m.revenue, 'transactions', m.transactions,
                          'revenue_per_fan', coalesce(m.revenue::double precision / nullif(m.fans, 0), 0),
                          'avg_transaction_value', coalesce(m.revenue::double precision / nullif(m.transactions, 0), 0),
                          'monetization_efficiency', coalesce(m.revenue::double precision / nullif(m.engagement, 0), 0)),
       m.events_g, m.fans_g),
      ('C', m.e_c * (1 + m.distribution) * (1 + log(1 + m.countries::double precision)),
       jsonb_build_object('engagement', m.e_c, 'cities', m.cities, 'countries', m.countries,
                          'city_distribution', m.distribution, 'touring_viability', m.touring,
                          'attendance', m.attendance, 'fan_density', m.fan_density),
       m.events_c, m.fans_c)
    ) as d (domain, raw, components, events, fans)
  ),
  computed as materialized (
    select d.artist_id, d.domain, d.period, d.score, d.raw, d.components, d.events, d.fans
    from domains as d
    union all
    -- overall: the mean of the four domain scores; raw is the same mean.
    select
      d.artist_id, 'overall', d.period,
      -- summed in a fixed order: the same bits whatever order the rows come in
      sum(d.score order by d.domain) / 4, sum(d.score order by d.domain) / 4,
      jsonb_object_agg(d.domain, d.score),
      max(m.entries), max(m.fans)
    from domains as d
    join metrics as m on m.artist_id = d.artist_id and m.period = d.period
    group by d.artist_id, d.period
  ),
  previous as (
    select s.artist_id, s.domain, s.period, s.score
    from targets as t
    cross join lateral (
      select * from public.coliseum_domain_strength as s where s.artist_id = t.artist_id offset 0
    ) as s
  ),
  saved as (
    insert into public.coliseum_domain_strength as s
      (artist_id, domain, period, score, raw, components, events, fans, computed_at)
    select c.artist_id, c.domain, c.period, c.score, c.raw, c.components, c.events, c.fans, as_of
    from computed as c
    order by c.artist_id, c.domain, c.period
    on conflict (artist_id, domain, period) do update set
      score = excluded.score, raw = excluded.raw, components = excluded.components,
      events = excluded.events, fans = excluded.fans, computed_at = excluded.computed_at
    where (s.score, s.raw, s.components, s.events, s.fans)
          is distinct from (excluded.score, excluded.raw, excluded.components, excluded.events, excluded.fans)
  ),
  refreshed as (
    insert into coliseum_private.artist_refreshes as r (artist_id, refreshed_at)
    select t.artist_id, as_of from targets as t
    order by t.artist_id
    on conflict (artist_id) do update set refreshed_at = excluded.refreshed_at
  ),
  history as (
    insert into coliseum.strength_history as h (day, artist_id, domain, period, score, raw)
    select (as_of at time zone 'UTC')::date, c.artist_id, c.domain, c.period, c.score, c.raw
    from computed as c
    order by c.artist_id, c.domain, c.period
    on conflict (artist_id, domain, period, day) do update set score = excluded.score, raw = excluded.raw
    where (h.score, h.raw) is distinct from (excluded.score, excluded.raw) -- a value that holds is not rewritten
  ),
  changes as (
    select c.artist_id, c.domain, c.period, c.score, p.score as previous
    from computed as c
    left join previous as p on p.artist_id = c.artist_id and p.domain = c.domain and p.period = c.period
    where c.score is distinct from p.score
  ),
  rises as (
    insert into coliseum.notifications (artist_id, domain, period, previous_score, score, delta, message)
    select
      c.artist_id, c.domain, c.period, coalesce(c.previous, 0), c.score, c.score - coalesce(c.previous, 0),
      format('Your DNA just increased: %s +%s', c.domain, round((c.score - coalesce(c.previous, 0))::numeric, 1))
    from changes as c
    where announce and c.period = '30d' and c.domain <> 'overall' and c.score - coalesce(c.previous, 0) >= 0.5
    order by c.artist_id, c.domain
  ),
  -- NOTIFY payloads stay under 8000 bytes: rows are cut into chunks of at
  -- most about 7700 bytes of JSON.
  change_json as (
    select j.row, sum(octet_length(j.row::text) + 2) over (order by c.artist_id, c.domain, c.period) as upto
    from changes as c
    cross join lateral (select jsonb_build_object('artist_id', c.artist_id, 'domain', c.domain, 'period', c.period,
                                                  'score', c.score, 'previous', c.previous) as row) as j
    where announce
  ),
  sent as (
    select pg_notify('coliseum_strength',
                     jsonb_build_object('as_of', as_of, 'rows', jsonb_agg(cj.row order by cj.upto))::text)
    from change_json as cj
    group by cj.upto / 7500
  )
  -- sent is read for what it does: a CTE that only selects runs when the statement reads it.
  select t.n::int into refreshed
  from (select count(*) from targets) as t(n)
  cross join (select count(*) from sent) as s(n);
  return refreshed;
end
$$;

------------------------------------------------------------------------------
-- Entry points
------------------------------------------------------------------------------

-- Claims up to max_entries pending entries (oldest first, skipping those
-- another processor holds), folds them, marks them processed and refreshes
-- the artists they touched, all in the caller's transaction. Returns how many
-- entries it processed (0: nothing was pending).
create function coliseum.process_pending(max_entries int default 5000)
returns int
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  batch bigint[];
  touched uuid[];
begin
  if max_entries is null or max_entries < 1 then
    raise exception using
      errcode = '22023',
      message = format('max_entries must be at least 1, got %s', coalesce(max_entries::text, 'null'));
  end if;
  -- The refresh must see what other processors committed after this
  -- transaction began.
  perform coliseum_private.require_read_committed('coliseum.process_pending');

  -- Claim and mark in one statement: the oldest pending entries that no
  -- other processor holds. The marks commit with the mutations or not at all.
  with claimed as (
    update public.passport_entries as p
    set coliseum_processed_at = now()
    where p.id in (select q.id
                   from public.passport_entries as q
                   where q.coliseum_processed_at is null
                   order by q.id
                   limit max_entries
                   for update skip locked)
    returning p.id
  )
  select array_agg(c.id order by c.id) into batch from claimed as c;
  if batch is null then
    return 0;
  end if;

  -- Folds and refreshes run one at a time: the aggregates take one writer,
  -- and the statements after the lock see what earlier holders committed.
  -- 'Coli' 'Rfsh'
  perform pg_advisory_xact_lock(1131375721, 1382446952);
  touched := coliseum_private.fold_entries(batch);
  perform coliseum_private.refresh_artists(touched, now());
  return cardinality(batch);
end
$$;

comment on function coliseum.process_pending(int) is
  'Folds up to max_entries pending Passport entries into DNA (exactly once) and refreshes the artists they touched; returns how many.';

-- Re-scores, oldest first, up to max_artists artists whose scores were
-- computed more than 10 minutes ago and can still move: decay and the 7d and
-- 30d windows change a score until its newest mutation is 30 days older than
-- the moment it was computed. Returns how many artists it re-scored.
create function coliseum.refresh_due(max_artists int default 2000)
returns int
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  due uuid[];
begin
  if max_artists is null or max_artists < 1 then
    raise exception using
      errcode = '22023',
      message = format('max_artists must be at least 1, got %s', coalesce(max_artists::text, 'null'));
  end if;
  select array_agg(r.artist_id order by r.refreshed_at) into due
  from (select r.artist_id, r.refreshed_at
        from coliseum_private.artist_refreshes as r
        where r.refreshed_at < now() - interval '10 minutes'
          and exists (select from public.coliseum_dna_mutations as m
                      where m.artist_id = r.artist_id and m.occurred_at > r.refreshed_at - interval '30 days')
        order by r.refreshed_at
        limit max_artists) as r;
  return coliseum_private.refresh_artists(due, now());
end
$$;

comment on function coliseum.refresh_due(int) is
  'Re-scores up to max_artists artists whose scores are over 10 minutes old and still decaying; returns how many.';

-- Recomputes all DNA from the whole log: derived state is emptied, every entry
-- is folded again in id order, pending entries are marked, every artist is
-- scored as of as_of. Notifications are kept and none are written; one NOTIFY
-- {"rebuild": true, "as_of": ..., "artists": n} replaces the per-row ones.
-- Returns the number of mutations.
create function coliseum.rebuild(as_of timestamptz default now())
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  chunk constant int := 20000;
  batch bigint[];
  last_id bigint := 0;
  artists uuid[];
  artist_count int := 0;
  total bigint;
begin
  perform coliseum_private.require_read_committed('coliseum.rebuild');
  -- The refresh lock first, as a processor takes it before it writes: a
  -- processor that holds it finishes first, later ones wait. Readers of fans
  -- and strengths keep the old rows until the rebuild commits.
  perform pg_advisory_xact_lock(1131375721, 1382446952);
  lock table public.coliseum_dna_mutations, coliseum.fan_genres, coliseum.fans in exclusive mode;

  perform set_config('buckets.coliseum_rebuild', txid_current()::text, true);
  truncate public.coliseum_dna_mutations;
  perform set_config('buckets.coliseum_rebuild', '', true);
  truncate coliseum_private.dna_hours, coliseum_private.dna_totals, coliseum_private.artist_fans,
    coliseum_private.artist_places, coliseum_private.artist_refreshes;
  -- Deletes, not truncates, so that readers keep the old rows until commit;
  -- "where true" because PostgREST's sessions load safeupdate, which refuses
  -- a DELETE without WHERE even inside a function.
  delete from coliseum.fan_genres where true;
  delete from coliseum.fans where true;
  delete from public.coliseum_domain_strength where true;
  delete from coliseum.strength_history as h where h.day = (as_of at time zone 'UTC')::date;

  loop
    select array_agg(p.id order by p.id), max(p.id) into batch, last_id
    from (select p.id from public.passport_entries as p where p.id > last_id order by p.id limit chunk) as p;
    exit when batch is null;
    perform coliseum_private.fold_entries(batch);
  end loop;

  -- Entries a processor holds are skipped: it folds them itself (its
  -- mutations already exist here, so it adds nothing) and marks them.
  update public.passport_entries as p
  set coliseum_processed_at = now()
  where p.id in (select q.id from public.passport_entries as q
                 where q.coliseum_processed_at is null
                 for update skip locked);

  for artists in
    select array_agg(a.artist_id)
    from (select a.artist_id, (row_number() over (order by a.artist_id) - 1) / 2000 as part
          from (select distinct m.artist_id from public.coliseum_dna_mutations as m) as a) as a
    group by a.part
  loop
    artist_count := artist_count + coliseum_private.refresh_artists(artists, as_of, false);
  end loop;

  perform pg_notify('coliseum_strength',
                    jsonb_build_object('rebuild', true, 'as_of', as_of, 'artists', artist_count)::text);
  select count(*) into total from public.coliseum_dna_mutations;
  return total;
end
$$;

comment on function coliseum.rebuild(timestamptz) is
  'Recomputes all DNA from the whole Passport log and scores every artist as of as_of; returns the number of mutations.';

------------------------------------------------------------------------------
-- Who may call what (functions in these schemas start with no grant)
------------------------------------------------------------------------------

grant execute on function coliseum.process_pending(int) to service_role;
grant execute on function coliseum.refresh_due(int) to service_role;
grant execute on function coliseum.rebuild(timestamptz) to service_role;

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
