-- Companon, offers (issue 13, item 4): a brand offers an artist money to sponsor them in a campaign; the
-- artist accepts or declines; the brand pays an accepted offer through Treasury's Checkout
-- (docs/companon.md#offers-and-sponsorships).
--
--   companon.offers              one offer of a campaign to an artist: amount, terms, expiry, state
--   companon.offer_transitions   every change of an offer (and its creation), with its Passport entry
--
-- An artist is a user: artist_id is the artist's user id, as everywhere on the platform (a tip's artist_id,
-- treasury.products.artist_id, the payee of a split, coliseum's artist_id). "The artist accepts" is that user
-- (or the platform).
--
-- Contract for measurement (item 5): the sponsored artists of a campaign are its offers in state accepted or
-- paid, sponsored since accepted_at. What a campaign has committed (accepted + paid) never exceeds its budget:
-- every accept locks the campaign's row first.
--
-- Offers are read, under row level security, by the members of the campaign's brand and by admins
-- (treasury.admins), and by the artist they are made to; nobody writes them directly: everything goes
-- through the functions.
--
-- This step holds tables and indexes. Its functions, policies and grants live in sql/companon/, one file per
-- object (docs/database-sources.md), and the generated step installs them, as sql/manifest.txt lists:
-- 20261203082010_companon_offers_code.sql                       after it

-- An offer names its campaign and the campaign's brand together, so the brand's policy reads the offer
-- alone and the brand can never disagree with the campaign's.
alter table companon.campaigns add constraint campaigns_id_brand_key unique (id, brand_id);

create table companon.offers (
  id uuid primary key default gen_random_uuid(),
  campaign_id uuid not null references companon.campaigns (id),
  brand_id uuid not null references companon.brands (id),
  artist_id uuid not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  terms text not null check (char_length(terms) between 1 and 4000 and terms = btrim(terms)),
  state text not null default 'offered'
    check (state in ('offered', 'accepted', 'declined', 'withdrawn', 'expired', 'paid', 'refunded')),
  expires_at timestamptz not null check (isfinite(expires_at)),
  reason text check (char_length(reason) between 1 and 500),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  state_changed_at timestamptz not null default now(),
  accepted_at timestamptz,
  payment_id text references treasury.payments (id),
  paid_at timestamptz,
  refunded_at timestamptz,
  constraint offers_campaign_brand_fkey foreign key (campaign_id, brand_id)
    references companon.campaigns (id, brand_id),
  constraint offers_expiry_check check (expires_at > created_at),
  constraint offers_accepted_check check ((accepted_at is not null) = (state in ('accepted', 'paid', 'refunded'))),
  constraint offers_paid_check check ((paid_at is not null) = (state in ('paid', 'refunded'))),
  constraint offers_payment_check check ((payment_id is not null) = (paid_at is not null)),
  constraint offers_refunded_check check ((refunded_at is not null) = (state = 'refunded'))
);

comment on table companon.offers is
  'Companon: a brand''s offer to an artist (artist_id: the artist''s user id) to sponsor them in a campaign, for '
  'amount_minor of the campaign''s currency under terms, open until expires_at. state: offered -> accepted | '
  'declined | withdrawn | expired; accepted -> paid (the brand paid through Checkout: payment_id, paid_at) -> '
  'refunded (refunded_at). Sponsored artists of a campaign: offers accepted or paid, since accepted_at. Accepted '
  'and paid offers commit the campaign''s budget, never beyond it. reason: why it was declined or withdrawn. '
  'Changed only through the companon offer functions; read by the brand''s members, admins and the artist.';
comment on column companon.offers.accepted_at is
  'When the artist accepted: the start of the sponsorship; null until accepted, kept when paid or refunded.';
comment on column companon.offers.payment_id is 'The Treasury payment (treasury.payments.id) that paid the offer.';

-- One open offer (offered, accepted or paid) per artist and campaign: a new one once it is declined,
-- withdrawn, expired or refunded.
create unique index offers_open_key on companon.offers (campaign_id, artist_id)
  where state in ('offered', 'accepted', 'paid');
create index offers_campaign_idx on companon.offers (campaign_id, created_at desc);
create index offers_brand_idx on companon.offers (brand_id, created_at desc);
create index offers_artist_idx on companon.offers (artist_id, created_at desc);
-- What a campaign has committed (and the sponsored artists of measurement).
create index offers_committed_idx on companon.offers (campaign_id, accepted_at)
  where state in ('accepted', 'paid');
-- The expiry job: open offers by expiry.
create index offers_expiry_idx on companon.offers (expires_at) where state = 'offered';
create index offers_payment_idx on companon.offers (payment_id) where payment_id is not null;

create table companon.offer_transitions (
  id bigint generated always as identity primary key,
  offer_id uuid not null references companon.offers (id),
  campaign_id uuid not null references companon.campaigns (id),
  brand_id uuid not null references companon.brands (id),
  artist_id uuid not null,
  action text not null
    check (action in ('create', 'withdraw', 'accept', 'decline', 'expire', 'pay', 'refund')),
  from_state text check (from_state in ('offered', 'accepted', 'paid')),
  to_state text not null
    check (to_state in ('offered', 'accepted', 'declined', 'withdrawn', 'expired', 'paid', 'refunded')),
  actor text not null check (actor in ('owner', 'manager', 'admin', 'artist', 'platform')),
  actor_id uuid,
  reason text check (char_length(reason) between 1 and 500),
  passport_entry_id bigint not null,
  at timestamptz not null default now(),
  constraint offer_transitions_from_check check ((action = 'create') = (from_state is null))
);

comment on table companon.offer_transitions is
  'The history of every offer: its creation and each state change, who made it (actor: the member''s role, '
  'admin, the artist, or platform for service_role, the webhook''s booking and the expiry job; actor_id the user, '
  'null for the platform), the reason given, and the Passport entry logged in the same transaction. Read by the '
  'brand''s members, admins and the artist.';

create index offer_transitions_offer_idx on companon.offer_transitions (offer_id, id);
create index offer_transitions_brand_idx on companon.offer_transitions (brand_id, id);
create index offer_transitions_artist_idx on companon.offer_transitions (artist_id, id);
