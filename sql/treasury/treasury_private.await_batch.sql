-- Waits for the running batch of the Stripe event applier to end, beside the
-- other waiters rather than behind them: a shared session lock on the batch
-- lock, released at once, also when the wait is cancelled (kept, it would
-- hold off every batch). For treasury.apply_stripe_events and
-- treasury.drive_stripe_events.
create or replace function treasury_private.await_batch()
returns void
language plpgsql
volatile
as $$
declare
  batch_lock constant bigint := treasury_private.batch_lock();
begin
  perform pg_catalog.pg_advisory_lock_shared(batch_lock);
  perform pg_catalog.pg_advisory_unlock_shared(batch_lock);
exception when others or query_canceled then
  perform pg_catalog.pg_advisory_unlock_shared(batch_lock);
  raise;
end
$$;
