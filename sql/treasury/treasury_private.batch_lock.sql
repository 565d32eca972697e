-- The advisory lock key of the Stripe event applier's batches: held by the
-- batch that runs (treasury.apply_stripe_events, treasury.drive_stripe_events),
-- waited on shared by deliveries (treasury_private.await_batch), taken by
-- transactions that must not overlap a batch
-- (treasury_private.queue_behind_batches). One definition, so they all name
-- the same lock.
create or replace function treasury_private.batch_lock()
returns bigint
language sql
immutable
parallel safe
as $$
  select pg_catalog.hashtextextended('treasury.apply_stripe_events', 0)
$$;

comment on function treasury_private.batch_lock() is
  'The advisory lock key that the Stripe event applier''s batches hold, and that callers wait on or queue behind.';
