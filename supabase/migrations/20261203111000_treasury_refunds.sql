-- Treasury refunds through Stripe (issue 14): refunds we ask Stripe for, not only those Stripe tells us of.
--
--   treasury.refund_requests          one row per refund we ask Stripe for: payment, amount, reason, the
--                                     idempotency key (the Stripe Idempotency-Key), its state and attempts
--
--   treasury_private.request_refund   how a system asks for a refund (Concierto's cancelled events):
--                                     validated against what is still refundable, idempotent on the key
--   treasury.request_refund           the same for Treasury admins and service_role (e.g. refunds_due rows)
--   treasury.claim_refund_work        the refund worker's batch, leased
--   treasury.record_refund_sent       Stripe accepted a request's refund
--   treasury.record_refund_failure    a request's call failed: retried at a time, or failed for good
--
-- A request moves requested -> sent -> refunded, or to failed. It is refunded when Stripe's
-- charge.refunded booking (treasury_private.apply_refund) covers it (docs/treasury-refunds.md).
--
-- This step holds tables and indexes. Its functions, policies and grants live in sql/treasury/, one file
-- per object (docs/database-sources.md), and the generated step installs them, as sql/manifest.txt lists:
-- 20261203111010_treasury_refunds_code.sql              after it

create table treasury.refund_requests (
  id uuid primary key default gen_random_uuid(),
  payment_id text not null references treasury.payments (id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  reason text not null check (char_length(reason) between 1 and 500),
  idempotency_key text not null unique check (char_length(idempotency_key) between 1 and 255),
  state text not null default 'requested' check (state in ('requested', 'sent', 'refunded', 'failed')),
  stripe_refund_id text unique check (stripe_refund_id ~ '^re_[A-Za-z0-9_]{1,250}$'),
  stripe_status text,
  attempts int not null default 0 check (attempts >= 0),
  last_error text,
  -- null: asked by the platform (service_role, a job, another system's function)
  requested_by uuid,
  requested_at timestamptz not null default now(),
  next_attempt_at timestamptz,
  leased_until timestamptz,
  sent_at timestamptz,
  refunded_at timestamptz,
  failed_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint refund_requests_lifecycle_check check (
    (state = 'requested' and next_attempt_at is not null)
    or (state = 'sent' and stripe_refund_id is not null and sent_at is not null and next_attempt_at is null)
    or (state = 'refunded' and refunded_at is not null and next_attempt_at is null)
    or (state = 'failed' and failed_at is not null and next_attempt_at is null))
);

comment on table treasury.refund_requests is
  'Refunds Treasury asks Stripe for: requested (waiting for the worker, from next_attempt_at), sent (Stripe '
  'accepted it: stripe_refund_id, stripe_status), refunded (the charge.refunded booking covers it), failed (Stripe '
  'refused it, or the retries ran out: last_error). idempotency_key is the Stripe Idempotency-Key, so a retry is '
  'answered once. Written only by functions; admins read every row.';
comment on column treasury.refund_requests.attempts is 'How many times the worker claimed the request to call Stripe.';
comment on column treasury.refund_requests.stripe_status is
  'The refund''s status in Stripe''s last answer: pending, requires_action, succeeded, failed or canceled.';

-- The worker's queue and what is still open on a payment.
create index refund_requests_due_idx on treasury.refund_requests (next_attempt_at) where state = 'requested';
create index refund_requests_payment_idx on treasury.refund_requests (payment_id);
