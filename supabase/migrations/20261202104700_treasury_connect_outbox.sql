-- Money out for real (issue 11, items 3, 4 and 5): Connect onboarding, the payout worker's side of
-- the database, and the receipts outbox (docs/treasury-payouts.md, docs/treasury-receipts.md).
--
--   treasury.wallets           + stripe_account_synced_at: Stripe's created of the newest
--                                account.updated applied (an older one changes nothing)
--   treasury.payout_attempts   + the worker's lease (claimed_at, leased_until, worker_runs) and the
--                                reversal of a transfer left standing by a payout that will not be sent
--   treasury.outbox            messages to send after a commit (payment receipt, ticket issued,
--                                payout sent, refund), written in the transaction of the fact
--
-- Its code is in sql/treasury/, carried by:
-- 20261202104710_treasury_connect_outbox_code.sql      after it
-- and the generated sources migration that carries the changed dispatch (treasury_private.apply_event)
-- and the tables' triggers.

------------------------------------------------------------------------------
-- Connect: account.updated, newest first
------------------------------------------------------------------------------

alter table treasury.wallets
  add column stripe_account_synced_at timestamptz;

comment on column treasury.wallets.stripe_account_synced_at is
  'Stripe''s created of the newest account.updated that set the verification: an older event, arriving late, '
  'changes nothing. Null until one arrived (or after the account changed).';

------------------------------------------------------------------------------
-- The payout worker
------------------------------------------------------------------------------

alter table treasury.payout_attempts
  add column claimed_at timestamptz,
  add column leased_until timestamptz,
  add column worker_runs int not null default 0 check (worker_runs >= 0),
  add column reversal_key text unique,
  add column reversal_claimed_at timestamptz,
  add column reversal_leased_until timestamptz,
  add column reversal_id text unique check (reversal_id ~ '^trr_[A-Za-z0-9_]{1,250}$'),
  add column reversal_requested_at timestamptz,
  add column reversal_error text check (char_length(reversal_error) <= 1000);

comment on column treasury.payout_attempts.leased_until is
  'The worker run that claimed the attempt (treasury.claim_payout_attempts) has it until then; another run takes '
  'it only after (a crashed run''s calls are repeated with the same idempotency keys).';
comment on column treasury.payout_attempts.worker_runs is 'How many worker runs claimed the attempt.';
comment on column treasury.payout_attempts.reversal_key is
  'The idempotency key of the reversal of the attempt''s standing transfer (buckets_payout_<id>_reversal), set '
  'when a worker run first claims it: the payout failed for good or was cancelled while its transfer stood.';
comment on column treasury.payout_attempts.reversal_id is 'The Stripe transfer reversal (trr_...) the worker created.';
comment on column treasury.payout_attempts.reversal_error is
  'Stripe refused the reversal (code: message): left for an operator, never claimed again.';

create index payout_attempts_worker_idx on treasury.payout_attempts (started_at, payout_id, attempt)
  where status in ('open', 'transferred') and stripe_payout_id is null;
create index payout_attempts_reversal_idx on treasury.payout_attempts (payout_id)
  where transfer_id is not null and transfer_reversed_at is null and reversal_id is null and reversal_error is null;

------------------------------------------------------------------------------
-- The receipts outbox
------------------------------------------------------------------------------

create table treasury.outbox (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind in ('payment_receipt', 'ticket_issued', 'payout_sent', 'refund')),
  dedupe_key text not null unique check (char_length(dedupe_key) <= 400),
  recipient_id uuid not null,
  email text check (char_length(email) <= 320),
  data jsonb not null check (jsonb_typeof(data) = 'object'),
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts int not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  leased_until timestamptz,
  last_error text check (char_length(last_error) <= 1000),
  provider_id text check (char_length(provider_id) <= 200),
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  constraint outbox_skipped_check check ((email is null) = (status = 'skipped')),
  constraint outbox_delivered_check check ((status = 'sent') = (sent_at is not null and provider_id is not null))
);

comment on table treasury.outbox is
  'Messages to send once their fact is committed: one row per fact (dedupe_key), written in the transaction that '
  'recorded it (a payment, its tickets, a paid payout, a refund). The receipts-sender edge function claims pending '
  'rows (treasury.claim_outbox), sends each through Resend with the row id as idempotency key and marks it '
  '(treasury.outbox_sent / outbox_failed). status: pending -> sending -> sent | pending (retry) | failed (an '
  'operator looks); skipped: the recipient has no email address. service_role only.';
comment on column treasury.outbox.dedupe_key is
  '<kind>:<the fact''s ids>: a replayed event queues nothing twice.';
comment on column treasury.outbox.email is 'auth.users.email of the recipient when the row was written.';
comment on column treasury.outbox.data is
  'What the message shows (amounts in minor units with their currency, the product, the event and seats, the '
  'payout), and "receipt": {"rpc": "treasury.receipt", "payment_id"} where a receipt exists.';
comment on column treasury.outbox.leased_until is 'A sender run has the row until then (status sending).';

create index outbox_due_idx on treasury.outbox (next_attempt_at, id) where status in ('pending', 'sending');
create index outbox_recipient_idx on treasury.outbox (recipient_id, created_at desc);
