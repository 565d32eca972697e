-- The batch applier: applies up to max_events recorded ('received') Stripe
-- events in one transaction, in Stripe's created order (then event id), so
-- the events of one payment object apply in the order Stripe made them, as
-- the one-at-a-time path did. One batch runs at a time (a transaction-level
-- advisory lock).
--
-- A caller that names its event (the webhook, after recording it) and finds
-- a batch running waits for that batch to end, beside the other waiters
-- rather than behind them, and returns if its event was applied; else it
-- queues for the next batch, which takes everything recorded by then (and a
-- caller whose event that batch applied returns at once). So under load
-- one batch carries the events of every delivery that arrived while the
-- previous one ran, and a delivery is answered once its event is applied,
-- unless more than max_events were waiting before it. A caller that names no
-- event (pg_cron) runs a batch once the lock is free.
--
-- Each event applies in a subtransaction: an event that raises is marked
-- failed with the error and leaves the others applied, never half applied.
-- Errors that say nothing of the event (serialization, deadlock, lock
-- timeout, resources, shutdown, connection) abort the batch instead: it
-- commits nothing, and the events stay received for the next batch.
--
-- Postings of the batch reach account_balances once per account, at the
-- batch's end (treasury_private.balance_deltas): the platform's hot accounts
-- are written once per batch, not once per payment.
create or replace function treasury.apply_stripe_events(max_events int default 200, event_id text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  stored record;
  result jsonb;
  statuses jsonb := '{}'::jsonb;
  events int := 0;
  err_state text;
  err_text text;
  batch_lock constant bigint := pg_catalog.hashtextextended('treasury.apply_stripe_events', 0);
begin
  if max_events is null or max_events not between 1 and 10000 then
    raise exception using
      errcode = '22023',
      message = format('max_events must be 1 to 10000, got %s', coalesce(max_events::text, 'null'));
  end if;
  if event_id is not null and not pg_catalog.pg_try_advisory_xact_lock(batch_lock) then
    -- A batch runs: wait for its end beside the other waiters (a shared
    -- session lock, released at once, also when the wait is cancelled:
    -- kept, it would hold off every batch).
    begin
      perform pg_catalog.pg_advisory_lock_shared(batch_lock);
      perform pg_catalog.pg_advisory_unlock_shared(batch_lock);
    exception when others or query_canceled then
      perform pg_catalog.pg_advisory_unlock_shared(batch_lock);
      raise;
    end;
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
  perform set_config('treasury.batch_balances', 'on', true);
  for stored in
    select e.event_id, e.payload
    from treasury.stripe_events as e
    where e.status = 'received'
    order by e.stripe_created, e.event_id
    limit max_events
    for update
  loop
    begin
      result := treasury_private.apply_stored(stored.event_id, stored.payload, false);
    exception when others then
      get stacked diagnostics err_state = returned_sqlstate, err_text = message_text;
      if left(err_state, 2) in ('08', '40', '53', '57') or err_state = '55P03' then
        raise;
      end if;
      result := treasury_private.outcome('failed', format('applying the event raised %s: %s', err_state, err_text));
      update treasury.stripe_events as e
      set status = 'failed', note = result ->> 'note', applied_at = null, outcome = result
      where e.event_id = stored.event_id;
    end;
    events := events + 1;
    statuses := statuses || jsonb_build_object(result ->> 'status', coalesce((statuses ->> (result ->> 'status'))::int, 0) + 1);
  end loop;
  set constraints treasury_private.balance_deltas_flush immediate;
  set constraints treasury_private.balance_deltas_flush deferred;
  perform set_config('treasury.batch_balances', 'off', true);
  return jsonb_build_object('events', events, 'statuses', statuses);
end
$$;

comment on function treasury.apply_stripe_events(int, text) is
  'Applies up to max_events (1 to 10000, default 200) recorded Stripe events in one transaction, in Stripe''s '
  'created order; waits for a batch already running. event_id (the caller''s own event): returns without a batch '
  'once that event is applied. Returns {"events": n, "statuses": {"applied": n, ...}}. '
  'An event that raises is marked failed (note: SQLSTATE and message; retry with treasury.retry_stripe_event). '
  'The webhook calls it after recording; pg_cron job treasury-apply-stripe-events every second.';

grant execute on function treasury.apply_stripe_events(int, text) to service_role;
