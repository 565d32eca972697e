-- The batch applier: applies up to max_events recorded ('received') Stripe
-- events in one transaction, in Stripe's created order (then event id), so
-- the events of one payment object apply in the order Stripe made them, as
-- the one-at-a-time path did. One batch runs at a time (a transaction-level
-- advisory lock).
--
-- A caller that names its event (one that must see it applied before it goes
-- on: treasury.receive_stripe_event, SQL callers) and finds a batch running
-- waits for that batch to end, beside the other waiters rather than behind
-- them, and returns if its event was applied; else it queues for the next
-- batch, which takes everything recorded by then (and a caller whose event
-- that batch applied returns at once). A caller that names no event (pg_cron)
-- runs a batch once the lock is free.
--
-- The batch itself is treasury_private.apply_batch (an event that raises is
-- marked failed and the others apply; balances are folded in once per batch).
-- The webhook drives batches with treasury.drive_stripe_events instead, which
-- does not wait for a running batch while the queue is short.
create or replace function treasury.apply_stripe_events(max_events int default 200, event_id text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  batch_lock constant bigint := treasury_private.batch_lock();
begin
  perform treasury_private.check_batch_size(max_events);
  if event_id is not null and not pg_catalog.pg_try_advisory_xact_lock(batch_lock) then
    -- A batch runs: wait for its end beside the other waiters.
    perform treasury_private.await_batch();
    if not treasury_private.is_received(event_id) then
      return jsonb_build_object('events', 0, 'statuses', '{}'::jsonb);
    end if;
  end if;
  -- The next batch, in turn; one that finds its event applied meanwhile
  -- (by the batch before it) returns at once.
  perform pg_catalog.pg_advisory_xact_lock(batch_lock);
  if event_id is not null and not treasury_private.is_received(event_id) then
    return jsonb_build_object('events', 0, 'statuses', '{}'::jsonb);
  end if;
  return treasury_private.apply_batch(max_events);
end
$$;

comment on function treasury.apply_stripe_events(int, text) is
  'Applies up to max_events (1 to 10000, default 200) recorded Stripe events in one transaction, in Stripe''s '
  'created order; waits for a batch already running. event_id (the caller''s own event): returns without a batch '
  'once that event is applied. Returns {"events": n, "statuses": {"applied": n, ...}}. '
  'An event that raises is marked failed (note: SQLSTATE and message; retry with treasury.retry_stripe_event). '
  'pg_cron job treasury-apply-stripe-events runs it every second; the webhook drives batches with treasury.drive_stripe_events.';

grant execute on function treasury.apply_stripe_events(int, text) to service_role;
