-- Treasury: wallets, the payout queue with its fraud checks, and what people read of their money
-- (docs/treasury-payouts.md). Builds on 20261122000800_treasury_ledger.sql.
--
--   treasury.payout_settings        minimum, retry limit and backoff, per currency ('*' for the rest)
--   treasury.wallets                one per payable user: a check-digit wallet id, the Stripe connected
--                                   account, the verification state
--   treasury.payouts                one per requested payout: held | pending | processing | paid | failed | cancelled
--   treasury.payout_attempts        what the queue asked Stripe for, once per attempt (idempotency keys)
--   treasury.payout_transitions     every state change of a payout with the ledger transaction that moved its money
--
--   treasury.wallet_id_valid / wallet_id_normalize       the wallet id's check digit (Damm over GF(32))
--   treasury.my_wallet, link_stripe_account, set_wallet_verification
--   treasury.request_payout, cancel_payout, release_payout, process_payouts, fail_payout_attempt
--   treasury_private.apply_payout_event                  transfer.* and payout.* Stripe events
--   treasury.check_payout_invariants                     one row per violated payout invariant
--   reads: fan_total_spent, fan_transactions, receipt; earnings_summary, revenue_by_source, payout_history,
--          top_fans; trial_balance, trial_balance_totals, platform_revenue, open_disputes, held_payouts
--
-- Where a payout's money is, by state (every transition posts Dr <from> / Cr <to>):
--   (requested) payee's payable -> held: platform payouts_held | pending: platform payouts_queued
--   processing: payouts_in_transit | paid: out of stripe_balance | failed, retrying: payouts_queued
--   failed for good, cancelled: back in the payee's payable.
-- Errors: 22023 bad argument, 23505 duplicate, 42501 privilege, P0002 not found, 55000 wrong state.

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants live in sql/treasury/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122000890_treasury_payouts_checks.sql           before it (what its tables' checks call)
-- 20261122000910_treasury_payouts_code.sql             after it

------------------------------------------------------------------------------
-- Settings
------------------------------------------------------------------------------

create table treasury.payout_settings (
  currency text primary key check (currency ~ '^([A-Z]{3}|\*)$'),
  minimum_minor bigint not null check (minimum_minor >= 1),
  max_attempts int not null check (max_attempts between 1 and 20),
  retry_base interval not null check (retry_base > interval '0'),
  retry_max interval not null,
  updated_at timestamptz not null default now(),
  constraint payout_settings_retry_check check (retry_max >= retry_base)
);

comment on table treasury.payout_settings is
  'Payout rules per currency; the row ''*'' applies to currencies without their own. minimum_minor: the smallest '
  'payout; max_attempts: sends before a failure is final; attempt n failing is retried after '
  'least(retry_max, retry_base * 2^(n-1)). Managed by service_role; readable by everybody.';

insert into treasury.payout_settings (currency, minimum_minor, max_attempts, retry_base, retry_max)
values ('*', 1000, 5, interval '5 minutes', interval '6 hours');

------------------------------------------------------------------------------
-- Wallets
------------------------------------------------------------------------------

create table treasury.wallets (
  user_id uuid primary key,
  wallet_id text not null unique check (treasury.wallet_id_valid(wallet_id)),
  stripe_account_id text unique check (stripe_account_id ~ '^acct_[A-Za-z0-9]{1,250}$'),
  verification text not null default 'unverified' check (verification in ('unverified', 'verified')),
  verified_at timestamptz,
  verification_note text check (char_length(verification_note) <= 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint wallets_verified_check check ((verification = 'verified') = (verified_at is not null)),
  constraint wallets_verified_account_check check (verification = 'unverified' or stripe_account_id is not null)
);

comment on table treasury.wallets is
  'One wallet per user who can be paid (made with their first payable account, or on demand): a stable, '
  'human-safe wallet id with a check symbol, the Stripe connected account payouts go to, and whether it is '
  'verified. Changed only through link_stripe_account and set_wallet_verification (service_role).';
comment on column treasury.wallets.wallet_id is 'BKT-XXXX-XXXX-C: never changes; treasury.wallet_id_valid checks it.';
comment on column treasury.wallets.verification is
  'unverified (payouts are held) or verified (payouts go out). Linking another Stripe account resets it.';

------------------------------------------------------------------------------
-- Payouts: where the money is, by state
------------------------------------------------------------------------------

insert into treasury.account_purposes (purpose, owner_kind, normal_side, description) values
  ('payouts_held', 'platform', 'credit',
   'Payouts requested and held by the payout checks (unverified wallet, untraced earnings): owed, not to be sent.'),
  ('payouts_queued', 'platform', 'credit',
   'Payouts waiting to be sent to Stripe: new ones and failed ones waiting for their retry (owed to payees).');

create table treasury.payouts (
  id uuid primary key default gen_random_uuid(),
  payee_id uuid not null,
  wallet_id text not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  state text not null check (state in ('held', 'pending', 'processing', 'paid', 'failed', 'cancelled')),
  hold_reasons text[] not null default '{}'
    check (hold_reasons <@ array['wallet_unverified', 'untraced_earnings']::text[]),
  hold_detail text,
  due_at timestamptz,
  attempts int not null default 0 check (attempts >= 0),
  failure_code text,
  failure_message text,
  client_request_id text check (char_length(client_request_id) between 1 and 200),
  transitions int not null default 0,
  requested_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  paid_at timestamptz,
  released_by uuid,
  released_at timestamptz,
  release_note text,
  cancelled_by uuid,
  cancel_note text,
  constraint payouts_client_request_key unique (payee_id, client_request_id),
  constraint payouts_held_check check (state <> 'held' or cardinality(hold_reasons) > 0),
  constraint payouts_due_check check (
    (state = 'pending' and due_at is not null) or state = 'failed' or due_at is null)
);

comment on table treasury.payouts is
  'Payouts payees asked for. state: held (checks failed: hold_reasons, hold_detail; an admin releases it), '
  'pending (queued, sent from due_at), processing (attempt n asked of Stripe), paid, failed (due_at set: retried '
  'then; null: for good, the money is back in payable), cancelled. Changed only by the payout functions.';
comment on column treasury.payouts.hold_reasons is
  'Why it was held (kept after a release): wallet_unverified, untraced_earnings.';
comment on column treasury.payouts.due_at is 'When the queue sends it: pending ones, and failed ones that will be retried.';
comment on column treasury.payouts.transitions is 'How many transitions it went through (the last seq of payout_transitions).';

create index payouts_payee_idx on treasury.payouts (payee_id, requested_at desc, id desc);
create index payouts_due_idx on treasury.payouts (due_at, id) where due_at is not null;
create index payouts_held_idx on treasury.payouts (requested_at) where state = 'held';

create table treasury.payout_attempts (
  payout_id uuid not null references treasury.payouts (id),
  attempt int not null check (attempt >= 1),
  idempotency_key text not null unique,
  operation text not null check (operation in ('transfer', 'payout')),
  stripe_account_id text not null,
  amount_minor bigint not null,
  currency char(3) not null,
  request jsonb not null,
  status text not null default 'open' check (status in ('open', 'transferred', 'paid', 'failed')),
  transfer_id text,
  transfer_reversed_at timestamptz,
  stripe_payout_id text unique,
  failed_by text check (failed_by in ('transfer', 'payout', 'worker')),
  failure_code text,
  failure_message text,
  started_at timestamptz not null,
  finished_at timestamptz,
  primary key (payout_id, attempt)
);

comment on table treasury.payout_attempts is
  'Each time the queue sends a payout: what the Stripe worker must ask for (request, with idempotency keys), '
  'and what Stripe answered. operation transfer: a transfer to the connected account, then a payout there; '
  'payout: only the payout, the transfer of a previous attempt still stands (transfer_id; transfer_reversed_at '
  'null). status open -> transferred -> paid | failed.';

create index payout_attempts_transfer_idx on treasury.payout_attempts (transfer_id);
create index payout_attempts_open_idx on treasury.payout_attempts (stripe_account_id, started_at) where status in ('open', 'transferred');

create table treasury.payout_transitions (
  id bigint generated always as identity primary key,
  payout_id uuid not null references treasury.payouts (id),
  seq int not null check (seq >= 1),
  from_state text,
  to_state text not null,
  retrying boolean not null default false,
  attempt int,
  actor text not null check (actor in ('payee', 'admin', 'queue', 'stripe', 'service')),
  actor_id uuid,
  stripe_event_id text,
  ledger_txn_id bigint not null references treasury.ledger_transactions (id),
  reason text,
  occurred_at timestamptz not null,
  recorded_at timestamptz not null default now(),
  constraint payout_transitions_seq_key unique (payout_id, seq)
);

comment on table treasury.payout_transitions is
  'Every state change of every payout, in order (seq), with who made it, why, and the ledger transaction that '
  'moved its money (kind payout_request | payout_<to_state>, reference <payout id>:<seq>). Append-only.';
comment on column treasury.payout_transitions.retrying is 'For to_state failed: whether it will be retried.';

------------------------------------------------------------------------------
-- Jobs. Money moves only through functions; users read their own wallet and
-- payouts, admins everything, service_role bypasses row level security
-- (sql/treasury/*.policies.sql).
------------------------------------------------------------------------------

-- The queue: pending payouts go out, failed ones are retried once their
-- backoff has elapsed. The Stripe calls themselves are the worker's
-- (docs/treasury-payouts.md).
select cron.schedule(
  'treasury-process-payouts',
  '* * * * *',
  'select treasury.process_payouts()'
);
