-- Puts the calling transaction in line with the Stripe event applier
-- (treasury.apply_stripe_events): it waits for the batch that is running and
-- keeps the next one from starting until it ends. For a transaction that
-- locks the payments of several requests at once (the refund worker records
-- every answer of its run in one statement): a batch locks payments in
-- Stripe's event order, such a caller in its own order, and the two would
-- deadlock. Taken first, before any row lock, the applier's lock orders them.
create or replace function treasury_private.queue_behind_batches()
returns void
language sql
volatile
set search_path = ''
begin atomic
  select pg_catalog.pg_advisory_xact_lock(treasury_private.batch_lock());
end;

comment on function treasury_private.queue_behind_batches() is
  'Waits for the running batch of treasury.apply_stripe_events and holds off the next one until this transaction '
  'ends; taken before any row lock by callers that lock several payments in one transaction.';
