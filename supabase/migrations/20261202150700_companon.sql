-- Companon, first part (issue 13, items 1 and 2): brands and the people who run them, and campaigns with
-- their target (a DNA profile plus filters), creatives and state machine, every transition logged to
-- Passport in its own transaction (docs/companon.md).
--
--   companon.dna_components         the DNA components a target may weight, per domain (reference data)
--   companon.size_bands             the artist size bands a target may filter on (reference data)
--   companon.brands                 one per brand
--   companon.brand_members          who runs a brand: owner, manager or viewer
--   companon.campaigns              objective, budget, schedule, target, creatives, state
--   companon.campaign_transitions   every state change of a campaign (and its creation), with its Passport entry
--
--   companon.create_brand, add_member, remove_member, set_member_role, my_brands, my_role
--   companon.create_campaign, update_campaign (drafts only), transition_campaign (the state machine)
--   companon_private.complete_ended  the pg_cron job that completes campaigns whose schedule has ended
--
-- A brand's rows are read, under row level security, by its members and by admins (treasury.admins);
-- nobody writes a Companon table directly: everything goes through the functions. Later parts (matching,
-- offers and money, measurement, dashboards) reference companon.campaigns (id) and companon.brands (id).
--
-- Errors carry a SQLSTATE: 22023 bad argument, 42501 privilege, P0002 not found (or not yours to see),
-- 23505 already there, 55000 wrong state; DETAIL holds a stable code where the app needs one.
--
-- The campaign event kinds are in the Passport catalog (buckets_core/src/passport/catalog.rs).
--
-- This step holds tables, indexes, data and cron jobs. Its functions, triggers, policies and grants live in
-- sql/companon/, one file per object (docs/database-sources.md), and the generated step installs them, as
-- sql/manifest.txt lists:
-- 20261202150710_companon_code.sql                       after it

------------------------------------------------------------------------------
-- Reference data: what a target may name
------------------------------------------------------------------------------

create table companon.dna_components (
  domain text not null check (domain in ('A', 'T', 'G', 'C')),
  component text not null check (component ~ '^[a-z_]{1,40}$'),
  description text not null,
  primary key (domain, component)
);

comment on table companon.dna_components is
  'The numeric components of an artist''s DNA per domain, as public.coliseum_domain_strength.components holds '
  'them (docs/coliseum-dna.md): a campaign target may weight any of them. Readable by everybody.';

insert into companon.dna_components (domain, component, description) values
  ('A', 'engagement', 'cultural engagement: decayed weight of the artist''s A events'),
  ('A', 'influence', 'A weight of intent and above: shares, playlist adds, follows, comments, votes'),
  ('A', 'genre_diversity', 'normalised entropy of the weight per genre'),
  ('A', 'crossover', 'share of fans whose home genre is not the artist''s main genre'),
  ('T', 'engagement', 'behavioral engagement: decayed weight of the artist''s T events'),
  ('T', 'fans', 'distinct fans with T events'),
  ('T', 'loyalty', 'share of fans active on two days or more'),
  ('T', 'repeat', 'plays and completions per fan'),
  ('T', 'conversion', 'share of fans who followed, bought, attended or joined'),
  ('G', 'engagement', 'economic engagement: decayed weight of the artist''s G events'),
  ('G', 'revenue_usd_cents', 'revenue in US cents'),
  ('G', 'transactions', 'paid transactions'),
  ('G', 'revenue_per_fan', 'revenue per fan'),
  ('G', 'avg_transaction_value', 'revenue per transaction'),
  ('G', 'monetization_efficiency', 'revenue per unit of engagement'),
  ('C', 'engagement', 'spatial engagement: decayed weight of the artist''s C events'),
  ('C', 'cities', 'distinct cities'),
  ('C', 'countries', 'distinct countries'),
  ('C', 'city_distribution', 'how evenly fans spread over cities'),
  ('C', 'touring_viability', 'weight of ticket purchases, RSVPs, scans and attendance'),
  ('C', 'attendance', 'events attended'),
  ('C', 'fan_density', 'share of fans in the artist''s biggest city');

create table companon.size_bands (
  band text primary key check (band ~ '^[a-z_]{1,30}$'),
  position smallint not null unique check (position >= 1),
  min_fans bigint not null check (min_fans >= 0),
  max_fans bigint,
  description text not null,
  constraint size_bands_range_check check (max_fans is null or max_fans > min_fans)
);

comment on table companon.size_bands is
  'Artist size bands a campaign target may filter on: an artist is in the band whose [min_fans, max_fans) '
  'holds their distinct fans over 30 days (the overall 30d row of public.coliseum_domain_strength). '
  'max_fans null: no upper bound. Readable by everybody.';

insert into companon.size_bands (band, position, min_fans, max_fans, description) values
  ('emerging', 1, 0, 1000, 'fewer than 1,000 fans in 30 days'),
  ('rising', 2, 1000, 10000, '1,000 to 9,999 fans in 30 days'),
  ('established', 3, 10000, 100000, '10,000 to 99,999 fans in 30 days'),
  ('star', 4, 100000, null, '100,000 fans or more in 30 days');

------------------------------------------------------------------------------
-- Brands and their people
------------------------------------------------------------------------------

create table companon.brands (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200 and name = btrim(name)),
  created_by uuid not null,
  created_at timestamptz not null default now()
);

comment on table companon.brands is
  'Companon: a brand that sponsors artists through campaigns. Created by companon.create_brand (its creator '
  'becomes its first owner); read by its members and admins.';

create table companon.brand_members (
  brand_id uuid not null references companon.brands (id),
  user_id uuid not null,
  role text not null check (role in ('owner', 'manager', 'viewer')),
  added_by uuid,
  added_at timestamptz not null default now(),
  role_changed_at timestamptz not null default now(),
  primary key (brand_id, user_id)
);

comment on table companon.brand_members is
  'Who runs a brand. owner: everything, including its members; manager: campaigns; viewer: reads. A brand '
  'always keeps an owner (the last one can neither leave nor be demoted). added_by is null when the platform '
  'added the member. Read by the brand''s members and admins.';

-- companon.my_brands(): the caller's brands, read from the index alone.
create index brand_members_user_idx on companon.brand_members (user_id, brand_id);

------------------------------------------------------------------------------
-- Campaigns
------------------------------------------------------------------------------

create table companon.campaigns (
  id uuid primary key default gen_random_uuid(),
  brand_id uuid not null references companon.brands (id),
  name text not null check (char_length(name) between 1 and 200 and name = btrim(name)),
  objective text not null check (objective in ('awareness', 'engagement', 'conversions')),
  budget_minor bigint not null check (budget_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  starts_at timestamptz not null check (isfinite(starts_at)),
  ends_at timestamptz not null check (isfinite(ends_at)),
  target jsonb not null check (jsonb_typeof(target) = 'object'),
  creatives jsonb not null default '[]' check (jsonb_typeof(creatives) = 'array'),
  state text not null default 'draft'
    check (state in ('draft', 'in_review', 'active', 'paused', 'completed', 'cancelled')),
  admin_hold boolean not null default false,
  review_note text,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  state_changed_at timestamptz not null default now(),
  constraint campaigns_schedule_check check (ends_at > starts_at),
  constraint campaigns_hold_check check (not admin_hold or state = 'paused')
);

comment on table companon.campaigns is
  'A brand''s campaign: objective, budget (minor units of currency), schedule [starts_at, ends_at), target (the '
  'canonical DNA profile and filters companon_private.target wrote) and creatives (https links). state: draft -> '
  'in_review -> active <-> paused -> completed | cancelled; an admin approves (active) or rejects (back to draft, '
  'review_note says why). admin_hold: an admin paused it, so only an admin resumes it. Changed only through '
  'companon.create_campaign, update_campaign (drafts) and transition_campaign; read by the brand''s members and admins.';

create index campaigns_brand_idx on companon.campaigns (brand_id, created_at desc);
-- The admins' review queue, oldest first.
create index campaigns_review_idx on companon.campaigns (state_changed_at) where state = 'in_review';
-- The completion job: running campaigns by end.
create index campaigns_running_idx on companon.campaigns (ends_at) where state in ('active', 'paused');

create table companon.campaign_transitions (
  id bigint generated always as identity primary key,
  campaign_id uuid not null references companon.campaigns (id),
  brand_id uuid not null references companon.brands (id),
  action text not null
    check (action in ('create', 'submit', 'withdraw', 'approve', 'reject', 'pause', 'resume', 'complete', 'cancel')),
  from_state text check (from_state in ('draft', 'in_review', 'active', 'paused')),
  to_state text not null check (to_state in ('draft', 'in_review', 'active', 'paused', 'completed', 'cancelled')),
  actor text not null check (actor in ('owner', 'manager', 'admin', 'platform')),
  actor_id uuid,
  reason text check (char_length(reason) between 1 and 500),
  passport_entry_id bigint not null,
  at timestamptz not null default now(),
  constraint campaign_transitions_from_check check ((action = 'create') = (from_state is null))
);

comment on table companon.campaign_transitions is
  'The history of every campaign: its creation and each state change, who made it (actor: the member''s role, '
  'admin, or platform for service_role and the completion job; actor_id the user, null for the platform), the '
  'reason given, and the Passport entry logged in the same transaction (passport_entry_id: no foreign key, the log '
  'is append-only and never truncated). Read by the brand''s members and admins.';

create index campaign_transitions_campaign_idx on companon.campaign_transitions (campaign_id, id);
create index campaign_transitions_brand_idx on companon.campaign_transitions (brand_id, id);

------------------------------------------------------------------------------
-- Campaigns end when their schedule does
------------------------------------------------------------------------------

select cron.schedule('companon-complete-ended', '* * * * *', 'select companon_private.complete_ended()');

-- The campaign event kinds (companon.campaign_created ... _cancelled) are in
-- buckets_core/src/passport/catalog.rs; the generated catalog data migration after this one adds them.
