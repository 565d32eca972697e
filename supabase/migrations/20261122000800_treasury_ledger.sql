-- Treasury: the double-entry ledger, what is sold and how it is split, payments and the
-- application of Stripe events (docs/treasury-ledger.md).
--
--   treasury.admins                 who is a Treasury admin (set by service_role); treasury.is_admin()
--   treasury.account_purposes       what an account is for: platform or user, normal side
--   treasury.accounts               one per (owner, purpose, currency), made on demand
--   treasury.ledger_transactions    one row per ledger transaction, (kind, reference) unique
--   public.treasury_ledger          the postings: append-only, balanced per transaction and currency
--   treasury.account_balances       every account's current balance, kept by the ledger itself
--   treasury.balances               accounts with their balances, as a view
--   treasury.split_rules (+ split_rule_parties)   who shares a sale, in basis points summing to 10,000
--   treasury.products               what the platform sells, each with a split rule
--   treasury.payments               one per Stripe PaymentIntent, with the shares it was split by
--   public.treasury_splits          the realised lines of every payment, refund and lost dispute
--   treasury.disputes               Stripe disputes and the shares they hold
--   treasury.stripe_events          every Stripe event received, by id: the exactly-once gate
--   treasury.webhook_rejections     what the webhook refused, kept 30 days / 100,000 rows
--
--   treasury.receive_stripe_event   apply one verified Stripe event (the webhook's only call)
--   treasury.retry_stripe_event     apply a deferred or failed event again
--   treasury.log_webhook_rejection  record a refused webhook request
--   treasury.define_split_rule      create a split rule with its parties
--   treasury.balance_at             an account's balance at any past moment
--   treasury.check_invariants       one row per violated ledger invariant (none when all is well)
--
-- Amounts are integer minor units. In the ledger a posting's amount is signed: debits
-- positive, credits negative; every transaction sums to zero per currency. Errors carry a
-- SQLSTATE: 22023 bad argument, 23505/23514 integrity, 42501 privilege, P0002 not found,
-- 55000 wrong state.

-- Money moves only through functions; the API roles read under row level
-- security: a user sees their own money, admins (treasury.admins) see all,
-- service_role bypasses RLS.

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants live in sql/treasury/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122000810_treasury_ledger_code.sql              after it

------------------------------------------------------------------------------
-- Admins
------------------------------------------------------------------------------

create table treasury.admins (
  user_id uuid primary key,
  granted_at timestamptz not null default now(),
  note text check (char_length(note) <= 500)
);

comment on table treasury.admins is
  'Treasury admins: users who read every money table and call the admin RPCs. Rows are set by service_role only.';

------------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------------

create table treasury.account_purposes (
  purpose text primary key check (purpose ~ '^[a-z][a-z_]{0,49}$'),
  owner_kind text not null check (owner_kind in ('platform', 'user')),
  normal_side text not null check (normal_side in ('debit', 'credit')),
  description text not null,
  constraint account_purposes_shape_key unique (purpose, owner_kind, normal_side)
);

comment on table treasury.account_purposes is
  'What an account is for: whether the platform (owner_id null) or a user owns it, and its normal side '
  '(debit: assets and expenses; credit: liabilities and income). Later modules add rows for new purposes.';

insert into treasury.account_purposes (purpose, owner_kind, normal_side, description) values
  ('stripe_balance', 'platform', 'debit',
   'Money of the platform''s Stripe balance (asset).'),
  ('processing_fees', 'platform', 'debit',
   'Stripe processing fees (expense).'),
  ('dispute_losses', 'platform', 'debit',
   'Dispute fees Stripe charged, net of fees it returned (expense).'),
  ('platform_revenue', 'platform', 'credit',
   'The platform''s shares of payments, net of its shares of refunds and lost disputes (income).'),
  ('dispute_reserve', 'platform', 'credit',
   'The platform''s shares of payments under an open dispute (revenue on hold).'),
  ('payouts_in_transit', 'platform', 'credit',
   'Payouts sent to Stripe and not yet paid to the payee''s bank (clearing liability).'),
  ('payable', 'user', 'credit',
   'What the platform owes a payee: shares of payments, less refunds, lost disputes and payouts (liability).'),
  ('held', 'user', 'credit',
   'A payee''s shares of payments under an open dispute: owed, not available (liability).');

create table treasury.accounts (
  id bigint generated always as identity primary key,
  owner_id uuid,
  owner_kind text not null generated always as (case when owner_id is null then 'platform' else 'user' end) stored,
  purpose text not null,
  normal_side text not null,
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  constraint accounts_purpose_fkey foreign key (purpose, owner_kind, normal_side)
    references treasury.account_purposes (purpose, owner_kind, normal_side),
  constraint accounts_owner_purpose_currency_key unique nulls not distinct (owner_id, purpose, currency),
  -- The target of the postings' (account_id, currency) reference.
  constraint accounts_id_currency_key unique (id, currency)
);

comment on table treasury.accounts is
  'Ledger accounts: one per owner (a user, or the platform when owner_id is null), purpose and currency. '
  'Made on demand by treasury_private.account(); never changed or deleted.';

------------------------------------------------------------------------------
-- The ledger
------------------------------------------------------------------------------

create table treasury.ledger_transactions (
  id bigint generated always as identity primary key,
  kind text not null check (kind ~ '^[a-z][a-z_]{0,49}$'),
  reference text not null check (char_length(reference) between 1 and 255),
  stripe_event_id text,
  created_at timestamptz not null default now(),
  constraint ledger_transactions_kind_reference_key unique (kind, reference),
  -- The target of the postings' (txn_id, kind, reference) reference.
  constraint ledger_transactions_id_kind_reference_key unique (id, kind, reference)
);

comment on table treasury.ledger_transactions is
  'One row per ledger transaction. (kind, reference) is unique: the same fact (a payment, a refund up to a '
  'cumulative total, a dispute''s hold) cannot be posted twice. Append-only.';
comment on column treasury.ledger_transactions.kind is
  'payment, processing_fee, refund, dispute_hold, dispute_release, dispute_loss, dispute_fee; later modules add theirs.';
comment on column treasury.ledger_transactions.reference is
  'What the transaction records: a PaymentIntent id, "<pi>:refunded:<cumulative>", a dispute id, ...';

create table public.treasury_ledger (
  id bigint generated always as identity primary key,
  txn_id bigint not null,
  kind text not null,
  reference text not null,
  account_id bigint not null,
  currency char(3) not null,
  -- Never the smallest bigint, so that every amount can be negated.
  amount bigint not null check (amount <> 0 and amount > -9223372036854775808),
  created_at timestamptz not null default now(),
  constraint treasury_ledger_txn_fkey foreign key (txn_id, kind, reference)
    references treasury.ledger_transactions (id, kind, reference),
  constraint treasury_ledger_account_fkey foreign key (account_id, currency)
    references treasury.accounts (id, currency)
);

comment on table public.treasury_ledger is
  'Treasury: the postings of the double-entry ledger, one row per account a transaction touches. amount is in '
  'minor units, debits positive and credits negative; each transaction sums to zero per currency (checked at '
  'commit). Append-only for every role. Written by treasury_private.post().';
comment on column public.treasury_ledger.amount is 'Minor units: debit > 0, credit < 0, never 0.';
comment on column public.treasury_ledger.created_at is 'When it was posted (the transaction''s start): treasury.balance_at reads up to a moment.';

create index treasury_ledger_txn_idx on public.treasury_ledger (txn_id);
create index treasury_ledger_account_idx on public.treasury_ledger (account_id, created_at);

create table treasury.account_balances (
  account_id bigint primary key,
  currency char(3) not null,
  balance bigint not null,
  entries bigint not null,
  updated_at timestamptz not null,
  constraint account_balances_account_fkey foreign key (account_id, currency)
    references treasury.accounts (id, currency)
);

comment on table treasury.account_balances is
  'The current balance of every account with postings: the sum of its amounts (debits positive) and their '
  'count, kept in the same transaction by the ledger''s own trigger. Read treasury.balances for the normal side.';

------------------------------------------------------------------------------
-- What is sold and how it is split
------------------------------------------------------------------------------

create table treasury.split_rules (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

comment on table treasury.split_rules is
  'How the money of a sale is shared: the parties of split_rule_parties, in position order, with shares '
  'summing to 10,000 basis points (checked at commit). A payment keeps the shares it was split by.';

create table treasury.split_rule_parties (
  rule_id uuid not null references treasury.split_rules (id) on delete cascade,
  position smallint not null check (position between 1 and 100),
  party_id uuid,
  role text not null check (role in ('artist', 'host', 'platform', 'other')),
  share_bp int not null check (share_bp between 0 and 10000),
  primary key (rule_id, position),
  constraint split_rule_parties_party_role_key unique nulls not distinct (rule_id, party_id, role),
  constraint split_rule_parties_platform_check check ((role = 'platform') = (party_id is null))
);

comment on table treasury.split_rule_parties is
  'The parties of a split rule: a user (party_id) as artist, host or other, or the platform (party_id null, '
  'role platform), with a share in basis points. Position orders the parties; the split engine breaks ties of '
  'equal remainders towards the lower position.';

create index split_rule_parties_party_idx on treasury.split_rule_parties (party_id);

create table treasury.products (
  id uuid primary key default gen_random_uuid(),
  type text not null check (type in ('ticket', 'membership', 'drop', 'merch', 'tip')),
  title text not null check (char_length(title) between 1 and 500),
  artist_id uuid,
  host_id uuid,
  price_minor bigint check (price_minor >= 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  split_rule_id uuid not null references treasury.split_rules (id),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  constraint products_owner_check check (artist_id is not null or host_id is not null)
);

comment on table treasury.products is
  'What the platform sells (ticket tiers, memberships, drops, merch, tips), owned by an artist and/or a host, '
  'each with the split rule its payments are shared by. price_minor null: the buyer chooses (tips). '
  'Managed by service_role; readable by everybody.';

create index products_artist_idx on treasury.products (artist_id);
create index products_host_idx on treasury.products (host_id);

------------------------------------------------------------------------------
-- Payments, realised splits, disputes
------------------------------------------------------------------------------

create table treasury.payments (
  id text primary key check (id ~ '^pi_[A-Za-z0-9_]{1,250}$'),
  checkout_session_id text unique,
  charge_id text unique,
  product_id uuid not null references treasury.products (id),
  product_type text not null,
  buyer_id uuid not null,
  artist_id uuid,
  host_id uuid,
  event_id uuid,
  tier_id uuid,
  quantity int not null check (quantity >= 1),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  fee_minor bigint check (fee_minor >= 0),
  refunded_minor bigint not null default 0,
  dispute_lost_minor bigint not null default 0,
  dispute_state text check (dispute_state in ('open', 'won', 'lost')),
  split_rule_id uuid not null references treasury.split_rules (id),
  party_ids uuid[] not null,
  party_roles text[] not null,
  shares_bp int[] not null,
  livemode boolean not null,
  paid_at timestamptz not null,
  recorded_at timestamptz not null default now(),
  stripe_event_id text not null,
  constraint payments_reversed_check
    check (refunded_minor >= 0 and dispute_lost_minor >= 0 and refunded_minor + dispute_lost_minor <= amount_minor),
  constraint payments_parties_check
    check (cardinality(shares_bp) between 1 and 100
           and cardinality(party_ids) = cardinality(shares_bp)
           and cardinality(party_roles) = cardinality(shares_bp))
);

comment on table treasury.payments is
  'One row per Stripe PaymentIntent that paid for a product, with the parties and shares it was split by '
  '(a snapshot of the split rule). refunded_minor is Stripe''s cumulative amount_refunded; dispute_lost_minor '
  'what lost disputes took back. Written only by the Stripe event functions.';
comment on column treasury.payments.paid_at is 'Stripe''s created time of the event that recorded the payment.';
comment on column treasury.payments.fee_minor is 'The Stripe processing fee, when an event carried it (null: not known).';

create index payments_buyer_idx on treasury.payments (buyer_id, paid_at desc);
create index payments_artist_idx on treasury.payments (artist_id, paid_at desc);
create index payments_product_idx on treasury.payments (product_id);

create table public.treasury_splits (
  id bigint generated always as identity primary key,
  payment_id text not null references treasury.payments (id),
  reason text not null check (reason in ('payment', 'refund', 'dispute')),
  reference text not null,
  party_index smallint not null check (party_index >= 1),
  party_id uuid,
  role text not null,
  amount_minor bigint not null,
  currency char(3) not null,
  created_at timestamptz not null default now(),
  constraint treasury_splits_line_key unique (payment_id, reason, reference, party_index)
);

comment on table public.treasury_splits is
  'Treasury: the realised split lines of every payment (reason payment, amounts >= 0 summing to the payment), '
  'refund (reason refund, the reversal as negative amounts) and lost dispute (reason dispute, negative). '
  'party_index is the party''s position in the payment''s shares; party_id null is the platform. Append-only.';
comment on column public.treasury_splits.reference is 'The reference of the ledger transaction that posted the line.';

create index treasury_splits_party_idx on public.treasury_splits (party_id, created_at);

create table treasury.disputes (
  id text primary key check (char_length(id) between 1 and 255),
  payment_id text not null references treasury.payments (id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  reason text,
  status text not null,
  outcome text check (outcome in ('won', 'lost')),
  hold_lines bigint[] not null,
  fee_minor bigint not null default 0,
  opened_at timestamptz not null,
  closed_at timestamptz,
  recorded_at timestamptz not null default now(),
  constraint disputes_closed_check check ((outcome is null) = (closed_at is null))
);

comment on table treasury.disputes is
  'Stripe disputes of recorded payments. hold_lines: per party of the payment (same order), what moved from '
  'payable to held while the dispute is open; released when won, written off when lost. outcome null: open. '
  'fee_minor: the dispute fees Stripe''s balance transactions showed, net.';

create index disputes_payment_idx on treasury.disputes (payment_id);
create index disputes_open_idx on treasury.disputes (opened_at) where outcome is null;

------------------------------------------------------------------------------
-- Stripe events and webhook rejections
------------------------------------------------------------------------------

create table treasury.stripe_events (
  event_id text not null check (char_length(event_id) between 1 and 255),
  type text not null check (char_length(type) between 1 and 255),
  livemode boolean not null,
  api_version text,
  stripe_created timestamptz not null,
  payment_intent_id text,
  charge_id text,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  -- 'received' exists only inside the transaction that inserts the row.
  status text not null check (status in ('received', 'applied', 'ignored', 'deferred', 'failed')),
  note text,
  applied_at timestamptz,
  attempts int not null default 1,
  constraint stripe_events_pkey primary key (event_id)
);

comment on table treasury.stripe_events is
  'Every Stripe event received, by its id (the exactly-once gate: a redelivery finds its row and is answered as a '
  'duplicate). status: applied, ignored (nothing to do), deferred (waits for its payment), failed (see note; '
  'retry with treasury.retry_stripe_event). payload is the event as received.';
comment on column treasury.stripe_events.stripe_created is 'The event''s created time at Stripe; deferred events apply in this order.';
comment on column treasury.stripe_events.payment_intent_id is 'The PaymentIntent the event concerns, when it names one.';
comment on column treasury.stripe_events.charge_id is 'The charge the event concerns, when it names one.';

create index stripe_events_deferred_pi_idx on treasury.stripe_events (payment_intent_id) where status = 'deferred';
create index stripe_events_deferred_charge_idx on treasury.stripe_events (charge_id) where status = 'deferred';
create index stripe_events_attention_idx on treasury.stripe_events (received_at) where status in ('failed', 'deferred');

create table treasury.webhook_rejections (
  id bigint generated always as identity primary key,
  rejected_at timestamptz not null default now(),
  code text not null,
  message text not null,
  detail jsonb not null default '{}'
);

comment on table treasury.webhook_rejections is
  'Requests the stripe-webhook function refused (bad signature and the like), with what it could tell. Kept '
  '30 days and at most 100,000 rows (pg_cron job treasury-prune-webhook-rejections).';

create index webhook_rejections_rejected_at_idx on treasury.webhook_rejections (rejected_at);

select cron.schedule(
  'treasury-prune-webhook-rejections',
  '*/10 * * * *',
  'select treasury_private.prune_webhook_rejections()'
);
