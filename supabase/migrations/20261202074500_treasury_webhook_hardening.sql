-- Webhook hardening (issue 11, items 6 and 7).
--
-- The webhook hands the database an event with U+0000 replaced (jsonb refuses it), so the stored
-- payload may differ from the signed body: the body's SHA-256 is kept beside it. The receiving
-- function gets the hash as a second argument, so its one-argument form goes.

alter table treasury.stripe_events
  add column body_sha256 text check (body_sha256 ~ '^[0-9a-f]{64}$');

comment on column treasury.stripe_events.body_sha256 is
  'SHA-256 (lowercase hex) of the body as Stripe signed it, when the webhook received it; payload is that body with '
  'U+0000 replaced by U+FFFD (docs/treasury-webhook.md).';

drop function treasury.receive_stripe_event(jsonb);

-- A dispute's fee total and status follow its newest state at Stripe, whatever order its events
-- arrive in. Stripe sends charge.dispute.created, .updated, .funds_withdrawn,
-- .funds_reinstated and .closed, each with the whole dispute object as it was then; a late, older
-- one must not undo what a newer one recorded (a won dispute's returned fee, say).
--
-- Its code is in sql/treasury/ (treasury_private.apply_dispute.sql; treasury_private.event_created.sql,
-- which records an event without a usable created as created when received), carried by:
-- 20261202074510_treasury_webhook_hardening_code.sql   after it
-- and the generated sources migration that follows it.

alter table treasury.disputes
  add column state_created timestamptz,
  add column state_transactions int not null default 0 check (state_transactions >= 0);

comment on column treasury.disputes.state_created is
  'Stripe''s created of the newest event whose dispute object set fee_minor and status; null before any '
  'event carried balance_transactions.';
comment on column treasury.disputes.state_transactions is
  'How many balance_transactions that event''s dispute object listed: breaks a tie between events of one second '
  '(Stripe only ever appends to the list).';
