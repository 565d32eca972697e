-- Checkout and subscriptions (issue 11, items 1 and 2; docs/treasury-checkout.md).
--
--   treasury.checkout_settings      how long a Checkout Session (and the seats it holds) lives, the grace period
--                                   of a failed renewal, the currency a plan is billed in by default
--   treasury.tip_bounds             the least and most a fan may tip, per currency
--   coliseum.plan_prices            the monthly price of each paid Coliseum plan, per currency
--   treasury.checkouts              one per POST /functions/v1/checkout: what was priced, the Stripe session
--   treasury.stripe_customers       the Stripe Customer of a user (created by their first subscription)
--   treasury.subscriptions          memberships (fan -> artist) and Coliseum plans billed monthly by Stripe
--   treasury.subscription_invoices  their invoices, paid or failing
--   coliseum.user_plans.expires_at  a plan bought by subscription ends with its paid period (plus grace)
--   treasury.payments.id            a subscription's invoice is booked under its invoice id (in_...)
--
-- Its code is in sql/treasury/ and sql/coliseum/, carried by:
-- 20261202110010_treasury_checkout_code.sql   after it

------------------------------------------------------------------------------
-- Settings
------------------------------------------------------------------------------

create table treasury.checkout_settings (
  id boolean primary key default true check (id),
  -- Stripe accepts a session's expires_at from 30 minutes to 24 hours after its creation; the extra
  -- minutes cover the time between our insert and Stripe's check (and retries with backoff).
  session_lifetime interval not null default '35 minutes'
    check (session_lifetime between interval '31 minutes' and interval '23 hours'),
  renewal_grace interval not null default '3 days'
    check (renewal_grace between interval '0' and interval '60 days'),
  plan_currency char(3) not null default 'EUR' check (plan_currency ~ '^[A-Z]{3}$')
);

comment on table treasury.checkout_settings is
  'One row. session_lifetime: how long a Checkout Session is open, and how long the seats of a ticket checkout are '
  'held (they expire together). renewal_grace: how long a plan or membership stays after a renewal is due or fails '
  'to be paid. plan_currency: the currency of a plan checkout that names none.';

insert into treasury.checkout_settings default values;

create table treasury.tip_bounds (
  currency char(3) primary key check (currency ~ '^[A-Z]{3}$'),
  min_minor bigint not null check (min_minor > 0),
  max_minor bigint not null,
  constraint tip_bounds_range_check check (max_minor >= min_minor and max_minor <= 99999999)
);

comment on table treasury.tip_bounds is
  'The least and most a single tip may be, in minor units of the currency; a currency without a row cannot be '
  'tipped in. Stripe''s own minimum charge (50 cents for USD and EUR) is the floor.';

insert into treasury.tip_bounds (currency, min_minor, max_minor) values
  ('EUR', 100, 50000),
  ('USD', 100, 50000),
  ('GBP', 100, 50000);

create table coliseum.plan_prices (
  plan text not null references coliseum.plans (plan) check (plan in ('basic', 'pro', 'enterprise')),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  price_minor bigint not null check (price_minor > 0),
  primary key (plan, currency)
);

comment on table coliseum.plan_prices is
  'The monthly price of each paid plan per currency, in minor units; a plan checkout is priced from here.';

insert into coliseum.plan_prices (plan, currency, price_minor) values
  ('basic', 'EUR', 499), ('basic', 'USD', 499),
  ('pro', 'EUR', 1499), ('pro', 'USD', 1499),
  ('enterprise', 'EUR', 9900), ('enterprise', 'USD', 9900);

------------------------------------------------------------------------------
-- Checkouts
------------------------------------------------------------------------------

create table treasury.checkouts (
  id uuid primary key default gen_random_uuid(),
  buyer_id uuid not null,
  client_request_id text check (char_length(client_request_id) between 1 and 200),
  kind text not null check (kind in ('ticket', 'tip', 'drop', 'merch', 'membership', 'plan')),
  mode text not null check (mode in ('payment', 'subscription')),
  item jsonb not null,
  product_id uuid references treasury.products (id),
  artist_id uuid,
  plan text check (plan in ('basic', 'pro', 'enterprise')),
  quantity int not null check (quantity between 1 and 10),
  unit_amount_minor bigint not null check (unit_amount_minor > 0),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  order_id uuid unique references concierto.orders (id),
  session_params jsonb not null,
  status text not null default 'creating' check (status in ('creating', 'open', 'completed', 'expired', 'failed')),
  failure_code text,
  session_id text unique check (session_id ~ '^cs_[A-Za-z0-9_]{1,250}$'),
  session_url text,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint checkouts_request_key unique (buyer_id, client_request_id),
  constraint checkouts_item_check check ((kind = 'plan') = (plan is not null) and (kind = 'plan') = (product_id is null)),
  constraint checkouts_mode_kind_check check ((mode = 'subscription') = (kind in ('membership', 'plan'))),
  constraint checkouts_open_check check (status in ('creating', 'failed') or session_id is not null)
);

comment on table treasury.checkouts is
  'One per checkout the app started (treasury.begin_checkout): the item as asked, priced from the database, the '
  'seats it holds (order_id), the Stripe Checkout Session''s parameters and, once created, its id and url. '
  'creating -> open (session created) -> completed | expired; creating -> failed (Stripe refused: holds released). '
  'A buyer reads their own.';
comment on column treasury.checkouts.session_params is
  'The Checkout Session parameters the edge sends to Stripe (but the URLs and the customer''s e-mail), kept so a '
  'retried request repeats the same call under the same Idempotency-Key.';

create index checkouts_buyer_idx on treasury.checkouts (buyer_id, created_at desc);

------------------------------------------------------------------------------
-- Subscriptions
------------------------------------------------------------------------------

create table treasury.stripe_customers (
  user_id uuid primary key,
  customer_id text not null unique check (customer_id ~ '^cus_[A-Za-z0-9_]{1,250}$'),
  created_at timestamptz not null default now()
);

comment on table treasury.stripe_customers is
  'The Stripe Customer of a user, recorded from their first subscription''s checkout; later checkouts and the '
  'billing portal use it. A user reads their own.';

create table treasury.subscriptions (
  id uuid primary key default gen_random_uuid(),
  stripe_subscription_id text not null unique check (stripe_subscription_id ~ '^sub_[A-Za-z0-9_]{1,250}$'),
  user_id uuid not null,
  customer_id text,
  kind text not null check (kind in ('membership', 'plan')),
  product_id uuid references treasury.products (id),
  artist_id uuid,
  plan text check (plan in ('basic', 'pro', 'enterprise')),
  checkout_id uuid references treasury.checkouts (id),
  status text,
  cancel_at_period_end boolean not null default false,
  current_period_end timestamptz,
  ended_at timestamptz,
  state_created timestamptz,
  -- Orders states of the same second: 1 created, 2 updated, 3 deleted.
  state_rank int,
  paid_through timestamptz,
  failing_since timestamptz,
  access_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint subscriptions_item_check check (
    case kind when 'membership' then product_id is not null and artist_id is not null and plan is null
              else plan is not null and product_id is null end)
);

comment on table treasury.subscriptions is
  'A Stripe subscription started through treasury.begin_checkout: a membership (fan -> artist, its invoices booked '
  'as payments of the membership product) or a Coliseum plan (it sets coliseum.user_plans). status, '
  'cancel_at_period_end, current_period_end and ended_at are those of the newest customer.subscription.* event by '
  'Stripe''s created (state_created; within one second created < updated < deleted, state_rank); paid_through and failing_since summarise treasury.subscription_invoices. '
  'access_until is what they give: see '
  'treasury_private.subscription_access. A user reads their own.';

create index subscriptions_user_idx on treasury.subscriptions (user_id, kind);

create table treasury.subscription_invoices (
  invoice_id text primary key check (invoice_id ~ '^in_[A-Za-z0-9_]{1,250}$'),
  subscription_id uuid not null references treasury.subscriptions (id),
  billing_reason text,
  amount_minor bigint check (amount_minor >= 0),
  currency char(3) check (currency ~ '^[A-Z]{3}$'),
  period_end timestamptz,
  first_failed_at timestamptz,
  paid_at timestamptz,
  payment_id text references treasury.payments (id),
  created_at timestamptz not null default now()
);

comment on table treasury.subscription_invoices is
  'The invoices of a subscription that Stripe reported: paid_at (Stripe''s created of invoice.paid) and the end of '
  'the period it paid, or first_failed_at (the earliest invoice.payment_failed). A subscription is paid through the '
  'latest period_end of its paid invoices and failing since the earliest failure of an unpaid one, whatever order '
  'the events arrive in. payment_id: the membership payment booked for it. A user reads their own.';

create index subscription_invoices_subscription_idx on treasury.subscription_invoices (subscription_id);

------------------------------------------------------------------------------
-- Invoices are payments; plans end
------------------------------------------------------------------------------

-- A subscription's invoice may carry no PaymentIntent (API 2026-10-28.endive): it is booked under its
-- own id, which every event about it carries.
alter table treasury.payments drop constraint payments_id_check;
alter table treasury.payments add constraint payments_id_check check (id ~ '^(pi|in)_[A-Za-z0-9_]{1,250}$');

comment on table treasury.payments is
  'One row per Stripe PaymentIntent that paid for a product (id pi_...), or per paid invoice of a membership '
  '(id in_...), with the parties and shares it was split by (a snapshot of the split rule). refunded_minor is '
  'Stripe''s cumulative amount_refunded; dispute_lost_minor what lost disputes took back. Written only by the '
  'Stripe event functions.';

alter table coliseum.user_plans add column expires_at timestamptz;

comment on column coliseum.user_plans.expires_at is
  'When the plan ends: the paid period of its subscription (plus the renewal grace); null for a plan set by hand '
  '(coliseum.set_plan), which lasts until changed. coliseum.my_plan reads an ended plan as free.';
