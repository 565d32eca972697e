-- Concierto: live events, ticket tiers sold through Treasury, tickets issued in the payment's
-- transaction, door validation, transfers, attendance into Passport (docs/concierto.md).
-- Builds on 20261122000800_treasury_ledger.sql, whose hooks after_payment / after_refund it
-- replaces.
--
--   concierto.events                one per live event: host, venue, times, currency, split settings
--   concierto.event_artists         the lineup, in billing order (position 1: the headliner)
--   concierto.ticket_tiers          what is on sale: price, capacity, sale window; each is a Treasury product
--   concierto.staff                 who may validate a host's tickets (the host always may)
--   concierto.orders                reservations for a checkout (15 minutes), then paid, expired or refund_due
--   public.event_tickets            one per seat: owner, state (valid | redeemed | void), version
--   concierto.scans                 every door scan with its answer; the nonce makes offline uploads idempotent
--   concierto.ticket_transfers      who gave which ticket to whom
--   concierto.refunds_due           payments Concierto could not honour, for operators to refund
--
--   concierto.create_event, create_tier, add_staff, remove_staff, is_staff, availability
--   concierto.reserve               hold seats for a checkout; returns the Stripe metadata
--   concierto.ticket_for_token      what the edge signs into a ticket's QR token (owner only)
--   concierto.redeem, upload_scans  the door (staff only)
--   concierto.transfer_ticket       give a ticket away (owner only)
--   concierto.host_stats            sold / issued / redeemed / void per tier, check-ins per 5 minutes
--
-- Errors carry a SQLSTATE: 22023 bad argument, 42501 privilege, P0002 not found, 55000 wrong state
-- (sold out, sale closed, void ticket); DETAIL holds a stable code where the app needs one.

-- Everything changes through functions; the API roles read under row level
-- security: events, lineups and tiers are public, a ticket is read by its
-- owner and the event's staff, an order by its buyer; service_role bypasses RLS.

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants live in sql/concierto/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122001010_concierto_code.sql                    after it

------------------------------------------------------------------------------
-- Events, lineups, tiers, staff
------------------------------------------------------------------------------

create table concierto.events (
  id uuid primary key default gen_random_uuid(),
  host_id uuid not null,
  title text not null check (char_length(title) between 1 and 200),
  venue text not null check (char_length(venue) between 1 and 200),
  city text not null check (char_length(city) between 1 and 100),
  country char(2) not null check (country ~ '^[A-Z]{2}$'),
  starts_at timestamptz not null check (isfinite(starts_at)),
  doors_at timestamptz not null check (isfinite(doors_at)),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  split_host_bp int not null check (split_host_bp between 0 and 10000),
  split_artists_bp int not null check (split_artists_bp between 0 and 10000),
  split_platform_bp int not null check (split_platform_bp between 0 and 10000),
  created_at timestamptz not null default now(),
  constraint events_doors_check check (doors_at <= starts_at),
  constraint events_split_check check (split_host_bp + split_artists_bp + split_platform_bp = 10000)
);

comment on table concierto.events is
  'Concierto: a live event of a host at a venue (city, ISO country), with its ticket currency and how ticket '
  'revenue is split between the host, the lineup (equal shares) and the platform, in basis points summing to '
  '10000. Created by concierto.create_event; readable by everybody.';

create index events_host_idx on concierto.events (host_id);

create table concierto.event_artists (
  event_id uuid not null references concierto.events (id),
  artist_id uuid not null,
  position smallint not null check (position between 1 and 50),
  primary key (event_id, artist_id),
  constraint event_artists_position_key unique (event_id, position)
);

comment on table concierto.event_artists is
  'The lineup of an event in billing order; position 1 is the headliner (the artist a ticket purchase is logged '
  'for in Passport). Every lineup artist gets event_attended when a ticket is admitted.';

create index event_artists_artist_idx on concierto.event_artists (artist_id);

create table concierto.ticket_tiers (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references concierto.events (id),
  name text not null check (char_length(name) between 1 and 100),
  price_minor bigint not null check (price_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  capacity int not null check (capacity between 1 and 1000000),
  seats_sold int not null default 0,
  sale_starts_at timestamptz not null check (isfinite(sale_starts_at)),
  sale_ends_at timestamptz not null check (isfinite(sale_ends_at)),
  product_id uuid not null unique references treasury.products (id),
  created_at timestamptz not null default now(),
  constraint ticket_tiers_name_key unique (event_id, name),
  constraint ticket_tiers_window_check check (sale_ends_at > sale_starts_at),
  -- The last line of defence against overselling: issued, not void tickets.
  constraint ticket_tiers_sold_check check (seats_sold between 0 and capacity)
);

comment on table concierto.ticket_tiers is
  'What is on sale for an event: a price (minor units of the event currency), a capacity and a sale window. '
  'seats_sold counts the tier''s tickets that are not void (kept by the payment and refund hooks). Each tier is '
  'the Treasury product (type ticket) its payments name, with a split rule from the event''s settings.';

create index ticket_tiers_event_idx on concierto.ticket_tiers (event_id);

create table concierto.staff (
  host_id uuid not null,
  user_id uuid not null,
  added_at timestamptz not null default now(),
  primary key (host_id, user_id)
);

comment on table concierto.staff is
  'Door staff: user_id may validate tickets of every event of host_id. The host is always staff of their own '
  'events without a row. Managed with concierto.add_staff / remove_staff.';

create index staff_user_idx on concierto.staff (user_id);

------------------------------------------------------------------------------
-- Orders and tickets
------------------------------------------------------------------------------

create table concierto.orders (
  id uuid primary key default gen_random_uuid(),
  buyer_id uuid not null,
  event_id uuid not null references concierto.events (id),
  tier_id uuid not null references concierto.ticket_tiers (id),
  product_id uuid not null references treasury.products (id),
  quantity int not null check (quantity between 1 and 10),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  state text not null default 'reserved'
    check (state in ('reserved', 'expired', 'paid', 'refund_due', 'refunded')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  payment_id text unique references treasury.payments (id),
  paid_at timestamptz,
  refunded_minor bigint not null default 0 check (refunded_minor >= 0),
  refund_unvoided int not null default 0 check (refund_unvoided >= 0),
  note text,
  constraint orders_payment_check check ((state in ('reserved', 'expired')) = (payment_id is null))
);

comment on table concierto.orders is
  'A checkout: quantity seats of a tier held for the buyer until expires_at (15 minutes). reserved seats count '
  'against capacity only while unexpired; the pg_cron job concierto-expire-orders marks them expired. A payment '
  'makes the order paid (tickets issued) or, when its seats were sold meanwhile, refund_due (see '
  'concierto.refunds_due); refunded once Stripe refunded it all. refund_unvoided: refunded seats whose tickets '
  'were already admitted, so were not voided.';

create index orders_live_idx on concierto.orders (tier_id, expires_at) where state = 'reserved';
create index orders_expiry_idx on concierto.orders (expires_at) where state = 'reserved';
create index orders_buyer_idx on concierto.orders (buyer_id, created_at desc);

create table public.event_tickets (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references concierto.events (id),
  tier_id uuid not null references concierto.ticket_tiers (id),
  order_id uuid not null references concierto.orders (id),
  seat smallint not null check (seat between 1 and 10),
  owner_id uuid not null,
  state text not null default 'valid' check (state in ('valid', 'redeemed', 'void')),
  version int not null default 1 check (version >= 1),
  issued_at timestamptz not null default now(),
  transferred_at timestamptz,
  redeemed_at timestamptz,
  redeemed_gate text,
  redeemed_by uuid,
  voided_at timestamptz,
  void_reason text check (void_reason in ('refund')),
  constraint event_tickets_seat_key unique (order_id, seat),
  constraint event_tickets_redeemed_check
    check ((state = 'redeemed') = (redeemed_at is not null and redeemed_gate is not null and redeemed_by is not null)),
  constraint event_tickets_void_check check ((state = 'void') = (voided_at is not null and void_reason is not null))
);

comment on table public.event_tickets is
  'Concierto: one ticket per seat of a paid order, owned by the buyer (or whom it was transferred to). valid -> '
  'redeemed (admitted at the door, once) or valid -> void (refunded). version grows with every transfer: a QR '
  'token carries the version, so a transfer kills every earlier token. Only the owner and the event''s staff read it.';

create index event_tickets_owner_idx on public.event_tickets (owner_id, issued_at desc);
create index event_tickets_event_idx on public.event_tickets (event_id, redeemed_at);
create index event_tickets_tier_idx on public.event_tickets (tier_id, state);

create table concierto.scans (
  id bigint generated always as identity primary key,
  nonce text unique check (char_length(nonce) between 1 and 200),
  ticket_id uuid not null,
  version int not null,
  event_id uuid not null references concierto.events (id),
  gate text not null,
  scanned_at timestamptz not null,
  scanned_by uuid not null,
  received_at timestamptz not null default now(),
  result jsonb
);

comment on table concierto.scans is
  'Every scan the door sent (concierto.redeem, concierto.upload_scans) and the answer it got. A scan with a '
  'nonce is applied once: a replay of the nonce gets the stored answer. result is set in the scan''s transaction.';

create index scans_event_idx on concierto.scans (event_id, scanned_at);
create index scans_ticket_idx on concierto.scans (ticket_id);

create table concierto.ticket_transfers (
  id bigint generated always as identity primary key,
  ticket_id uuid not null references public.event_tickets (id),
  version int not null,
  from_user uuid not null,
  to_user uuid not null,
  transferred_at timestamptz not null default now(),
  constraint ticket_transfers_version_key unique (ticket_id, version)
);

comment on table concierto.ticket_transfers is
  'Every transfer of a ticket: version is the ticket''s version after it. The giver and the receiver read it.';

create index ticket_transfers_from_idx on concierto.ticket_transfers (from_user);
create index ticket_transfers_to_idx on concierto.ticket_transfers (to_user);

create table concierto.refunds_due (
  payment_id text primary key references treasury.payments (id),
  order_id uuid references concierto.orders (id),
  buyer_id uuid not null,
  amount_minor bigint not null,
  currency char(3) not null,
  reason text not null,
  refunded_minor bigint not null default 0,
  created_at timestamptz not null default now(),
  resolved_at timestamptz
);

comment on table concierto.refunds_due is
  'Ticket payments Concierto could not honour (the order''s seats were sold after it expired, an unknown or '
  'already paid order, metadata that contradicts the order). No ticket was issued: refund them in Stripe. '
  'refunded_minor follows Stripe''s refunds; resolved_at is set once the whole payment is refunded.';

create index refunds_due_open_idx on concierto.refunds_due (created_at) where resolved_at is null;

------------------------------------------------------------------------------
-- Reservations
------------------------------------------------------------------------------

select cron.schedule('concierto-expire-orders', '* * * * *', 'select concierto_private.expire_orders()');
