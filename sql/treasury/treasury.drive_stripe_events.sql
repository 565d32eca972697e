-- What the webhook does after recording an event: drives the batch applier
-- without waiting for a batch that cannot include its event, so deliveries
-- keep being recorded and answered while a batch runs (Stripe's advice:
-- acknowledge once recorded, apply asynchronously), and one driver at a time
-- applies everything recorded meanwhile.
--
-- With the batch lock free, the call runs a batch (treasury_private.apply_batch)
-- and answers {"ran": true, "events": n, ...}. With a batch running it runs
-- none and answers {"ran": false}: at once when the running batch's driver
-- promised to look again (below), else after waiting for that batch's end
-- ("waited": true). Every answer says whether to call again ("again"), so
-- callers follow the rule below without restating it.
--
-- The promise. calls_again = true says: when this call answers ran with
-- events > 0, the caller calls again once it has returned, i.e. after this
-- batch's commit. The driver holds the promise lock for the batch. A caller
-- that finds the batch lock taken and the promise lock held returns at once:
-- its event, recorded (committed) before it looked, is taken by the batch that
-- driver's next call runs or finds running, either of which began after the
-- running batch's commit. So an
-- event is never left waiting for pg_cron while every driver keeps its word:
-- each recorder either runs a batch after recording, or finds a promising
-- driver, or waits for a non-promising batch (pg_cron's, a capped driver's,
-- an SQL caller's) to end and calls again.
--
-- Backpressure: a caller that finds a promising driver but max_events or more
-- events still waiting (the applier falls behind) waits for the running
-- batch's end too ("waited": true) before it answers, so deliveries are
-- acknowledged no faster than they are applied and the event -> ledger delay
-- stays about a batch or two.
--
-- The caller's loop (the webhook): call with calls_again = true while the
-- answer says "again" (it ran a batch that applied events under the caller's
-- promise, or it waited for a batch, which may have ended before the
-- caller's event was committed); on the last round it allows itself (it must
-- answer Stripe), call with calls_again = false.
create or replace function treasury.drive_stripe_events(max_events int default 64, calls_again boolean default false)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  batch_lock constant bigint := treasury_private.batch_lock();
  promise_lock constant bigint := pg_catalog.hashtextextended('treasury.drive_stripe_events', 0);
  waiting int;
  applied jsonb;
begin
  perform treasury_private.check_batch_size(max_events);
  if calls_again is null then
    raise exception using errcode = '22023', message = 'calls_again must be true or false';
  end if;
  if pg_catalog.pg_try_advisory_xact_lock(batch_lock) then
    if calls_again then
      -- Only a batch's driver takes it, so it is free but for the instants
      -- callers below hold it shared to test it.
      perform pg_catalog.pg_advisory_xact_lock(promise_lock);
    end if;
    applied := treasury_private.apply_batch(max_events);
    return jsonb_build_object('ran', true, 'again', calls_again and (applied ->> 'events')::int > 0) || applied;
  end if;

  -- A batch runs. Is its driver coming back? Callers test the promise lock
  -- shared, so they never stop each other, as a session lock released at
  -- once: never held while waiting for anything.
  if pg_catalog.pg_try_advisory_lock_shared(promise_lock) then
    -- Free: the running batch promised nothing.
    perform pg_catalog.pg_advisory_unlock_shared(promise_lock);
  else
    -- Held: its driver calls again, and takes this event, unless a batch's
    -- worth already waits.
    select count(*)::int into waiting
    from (select from treasury.stripe_events as e where e.status = 'received' limit max_events) as q;
    if waiting < max_events then
      return jsonb_build_object('ran', false, 'waited', false, 'again', false, 'events', 0, 'statuses', '{}'::jsonb);
    end if;
  end if;
  -- Wait for the running batch's end beside the other waiters.
  perform treasury_private.await_batch();
  return jsonb_build_object('ran', false, 'waited', true, 'again', true, 'events', 0, 'statuses', '{}'::jsonb);
end
$$;

comment on function treasury.drive_stripe_events(int, boolean) is
  'The webhook''s driver of the Stripe event applier, after recording: with no batch running, applies up to '
  'max_events (1 to 10000, default 64) recorded events (treasury_private.apply_batch) and answers {"ran": true, '
  '"events": n, "statuses": {...}}; with one running answers {"ran": false, "waited": false} at once when that '
  'batch''s driver will call again and fewer than max_events wait, else after that batch''s end ("waited": true). '
  'calls_again: the caller promises to call again after a batch that applied events. Every answer has "again": '
  'call again while it is true (a promised batch applied events, or a batch was waited for).';

grant execute on function treasury.drive_stripe_events(int, boolean) to service_role;
