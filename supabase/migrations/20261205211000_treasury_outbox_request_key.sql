-- The receipts sender sends its messages through Resend's batch endpoint (POST /emails/batch, up to
-- 100 emails a request) instead of one request per message: Resend allows a team 2 requests a
-- second by default, and one request per message turned a ticket drop's receipts into 429s
-- (docs/treasury-receipts.md, "Batches and Resend's rate limit").
--
-- A batch's Idempotency-Key covers the whole request, so a request that must be made again (a 429,
-- a 5xx, no answer, a run that crashed) is made again whole: same messages, same order, same key,
-- and Resend answers a repeat it already processed with the first answer and delivers nothing
-- twice. request_key is that key, given when a claim first puts the message into a request and kept
-- until the message is sent or failed for good (then cleared, so that an operator who sets a failed
-- message pending again starts a new request). treasury.claim_outbox
-- (20261205222428_sources.sql) claims such requests whole.
alter table treasury.outbox
  add column request_key text check (char_length(request_key) between 1 and 256);

comment on table treasury.outbox is
  'Messages to send once their fact is committed: one row per fact (dedupe_key), written in the transaction that '
  'recorded it (a payment, its tickets, a paid payout, a refund). The receipts-sender edge function claims due rows '
  '(treasury.claim_outbox) in Resend batch requests of at most 100 (request_key), sends each request through Resend''s '
  'POST /emails/batch under that key and marks each row (treasury.outbox_sent / outbox_failed). status: pending -> '
  'sending -> sent | pending (retry) | failed (an operator looks); skipped: the recipient has no email address. '
  'service_role only.';
comment on column treasury.outbox.request_key is
  'The Idempotency-Key of the Resend batch request that carries the message, set by treasury.claim_outbox; all the '
  'unsent messages with the same key are claimed and sent together, in id order, until sent or failed for good.';

-- The claim looks for requests to make again among the unsent messages only.
create index outbox_open_requests on treasury.outbox (request_key)
  where request_key is not null and status in ('pending', 'sending');
