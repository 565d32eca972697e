-- One batch of the Stripe event applier: applies up to max_events recorded
-- ('received') events in the calling transaction, in Stripe's created order
-- (then event id), so the events of one payment object apply in the order
-- Stripe made them. The caller holds the batch lock (treasury.apply_stripe_events,
-- treasury.drive_stripe_events): one batch runs at a time.
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
create or replace function treasury_private.apply_batch(max_events int)
returns jsonb
language plpgsql
volatile
as $$
declare
  stored record;
  result jsonb;
  statuses jsonb := '{}'::jsonb;
  events int := 0;
  err_state text;
  err_text text;
begin
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
