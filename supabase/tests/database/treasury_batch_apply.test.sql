-- Treasury: Stripe events recorded by treasury.record_stripe_event and applied in batches by
-- treasury.apply_stripe_events (docs/treasury-webhook.md, "Recorded, then applied"). Recording
-- applies nothing; a batch applies in Stripe's created order whatever order the events were
-- recorded in; balances are folded in once at the batch's end and match the postings; an event
-- that raises is marked failed and the rest of the batch applies; an error that says nothing
-- of the event aborts the batch and leaves every event received.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(29);
\ir treasury_helpers.psql

select pg_temp.balance(null, 'stripe_balance') as stripe_before \gset

-- Recording --------------------------------------------------------------------------------

-- The refund is recorded before its payment, as a shuffled delivery would have it.
select is(
  treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_refund', 'charge.refunded', 1763800010,
                                             pg_temp.charge('pi_pgtap_batch', 6000, 1000))),
  '{"received": true, "status": "received", "event_id": "evt_pgtap_batch_refund", "type": "charge.refunded"}'::jsonb,
  'recording answers received'
);
select is(
  treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_pay', 'checkout.session.completed', 1763800000,
                                             pg_temp.session('pi_pgtap_batch', 6000, :'meta'))) ->> 'status',
  'received',
  'the payment is recorded after its refund'
);
select is(
  treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_pay', 'checkout.session.completed', 1763800000,
                                             pg_temp.session('pi_pgtap_batch', 6000, :'meta'))),
  '{"received": true, "status": "duplicate", "event_id": "evt_pgtap_batch_pay", "recorded_status": "received"}'::jsonb,
  'a redelivery is a duplicate and names the recorded status'
);
select results_eq(
  $$select event_id, status, outcome is null, applied_at is null from treasury.stripe_events
    where event_id like 'evt_pgtap_batch_%' order by event_id$$,
  $$values ('evt_pgtap_batch_pay', 'received', true, true), ('evt_pgtap_batch_refund', 'received', true, true)$$,
  'recorded events wait, received, with no outcome'
);
select is((select count(*)::int from treasury.payments where id = 'pi_pgtap_batch'), 0, 'recording applies nothing');

-- A batch ---------------------------------------------------------------------------------

select is(
  (treasury.apply_stripe_events(10000) -> 'statuses' ->> 'applied')::int >= 2,
  true,
  'a batch applies what was recorded'
);
select results_eq(
  $$select event_id, status, attempts, outcome ->> 'status', applied_at is not null from treasury.stripe_events
    where event_id like 'evt_pgtap_batch_%' order by event_id$$,
  $$values ('evt_pgtap_batch_pay', 'applied', 1, 'applied', true), ('evt_pgtap_batch_refund', 'applied', 1, 'applied', true)$$,
  'in Stripe''s order: the payment first, then its refund, which never had to wait (deferred)'
);
select is(
  (select outcome ->> 'payment_id' from treasury.stripe_events where event_id = 'evt_pgtap_batch_pay'),
  'pi_pgtap_batch',
  'the outcome is what applying answered'
);
select is((select refunded_minor from treasury.payments where id = 'pi_pgtap_batch'), 1000::bigint, 'the refund is booked');
-- 6000: artist 4200, host 1200, platform 600; the refund of 1000 takes 700, 200 and 100 back.
select is(pg_temp.balance(:'artist', 'payable'), 3500::bigint, 'the artist''s balance is folded in at the batch''s end');
select is(pg_temp.balance(:'host', 'payable'), 1000::bigint, 'the host''s too');
select is(pg_temp.balance(null, 'stripe_balance') - :stripe_before, 5000::bigint, 'the platform''s Stripe balance moved once by the net');
select is(
  (select count(*)::int from treasury.check_invariants() where invariant = 'balance_mismatch'),
  0,
  'every balance equals the sum of its postings after the batch'
);
select is((select count(*)::int from treasury_private.balance_deltas), 0, 'nothing is left to fold in');

-- Failures --------------------------------------------------------------------------------

create function public.pgtap_batch_boom() returns trigger language plpgsql as $$
begin
  if new.id = 'pi_pgtap_batch_boom' then
    raise exception using errcode = current_setting('pgtap.boom'), message = 'pgTAP boom';
  end if;
  return new;
end
$$;
create trigger pgtap_batch_boom before insert on treasury.payments for each row execute function public.pgtap_batch_boom();

select treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_boom', 'checkout.session.completed', 1763800100,
                                                  pg_temp.session('pi_pgtap_batch_boom', 2000, :'meta'))) as recorded_boom \gset
select treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_after', 'checkout.session.completed', 1763800200,
                                                  pg_temp.session('pi_pgtap_batch_after', 3000, :'meta'))) as recorded_after \gset
select treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_bad', 'checkout.session.completed', 1763800150,
                                                  pg_temp.session('pi_pgtap_batch_bad', 3000, '{"quantity": "1"}'))) as recorded_bad \gset

set local pgtap.boom = '40001';
select throws_ok(
  'select treasury.apply_stripe_events(10000)',
  '40001',
  'pgTAP boom',
  'an error that says nothing of the event (a serialization failure) aborts the batch'
);
select results_eq(
  $$select event_id, status from treasury.stripe_events
    where event_id in ('evt_pgtap_batch_boom', 'evt_pgtap_batch_after', 'evt_pgtap_batch_bad') order by event_id$$,
  $$values ('evt_pgtap_batch_after', 'received'), ('evt_pgtap_batch_bad', 'received'), ('evt_pgtap_batch_boom', 'received')$$,
  '... and every event of it stays received for the next batch'
);

set local pgtap.boom = '23514';
select lives_ok('select treasury.apply_stripe_events(10000)', 'an event that raises does not stop the batch');
select results_eq(
  $$select event_id, status, note from treasury.stripe_events
    where event_id in ('evt_pgtap_batch_boom', 'evt_pgtap_batch_after', 'evt_pgtap_batch_bad') order by event_id$$,
  $$values ('evt_pgtap_batch_after', 'applied', null),
           ('evt_pgtap_batch_bad', 'failed', 'metadata.product_id is required'),
           ('evt_pgtap_batch_boom', 'failed', 'applying the event raised 23514: pgTAP boom')$$,
  'the event that raised is failed with its SQLSTATE and message, a bad one failed with its note, the others applied'
);
select is((select count(*)::int from treasury.payments where id = 'pi_pgtap_batch_boom'), 0, 'the failed event left nothing half applied');

drop trigger pgtap_batch_boom on treasury.payments;
select is(
  treasury.retry_stripe_event('evt_pgtap_batch_boom') ->> 'status',
  'applied',
  'once the cause is gone, retry_stripe_event applies it'
);

select throws_ok('select treasury.apply_stripe_events(0)', '22023', 'max_events must be 1 to 10000, got 0',
                 'a batch size out of range is refused');

-- The webhook's drive -----------------------------------------------------------------------

select treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_drive', 'checkout.session.completed', 1763800300,
                                                  pg_temp.session('pi_pgtap_batch_drive', 2500, :'meta'))) as recorded_drive \gset
select is(
  (select array[(d ->> 'ran')::boolean, (d ->> 'events')::int >= 1, (d ->> 'again')::boolean]
   from treasury.drive_stripe_events(200, true) as d),
  array[true, true, true],
  'with no batch running, the webhook''s drive runs one, and says to call again as promised'
);
select is((select status from treasury.stripe_events where event_id = 'evt_pgtap_batch_drive'), 'applied',
          '... which applies the event recorded before it');
select is(
  (select array[(d ->> 'ran')::boolean, (d ->> 'again')::boolean = ((d ->> 'events')::int > 0)]
   from treasury.drive_stripe_events(200, true) as d),
  array[true, true],
  'a promised batch asks for another call only when it applied events'
);
select treasury.record_stripe_event(pg_temp.event('evt_pgtap_batch_drive_last', 'checkout.session.completed', 1763800301,
                                                  pg_temp.session('pi_pgtap_batch_drive_last', 2500, :'meta'))) as recorded_last \gset
select is(
  (select array[(d ->> 'ran')::boolean, (d ->> 'events')::int >= 1, (d ->> 'again')::boolean]
   from treasury.drive_stripe_events(200, false) as d),
  array[true, true, false],
  'a call that promised nothing is not asked to call again'
);
select throws_ok('select treasury.drive_stripe_events(10001)', '22023', 'max_events must be 1 to 10000, got 10001',
                 'the drive refuses a batch size out of range');
select throws_ok('select treasury.drive_stripe_events(200, null)', '22023', 'calls_again must be true or false',
                 'the drive refuses an unknown promise');
select is(
  array[has_function_privilege('service_role', 'treasury.drive_stripe_events(int, boolean)', 'execute'),
        has_function_privilege('authenticated', 'treasury.drive_stripe_events(int, boolean)', 'execute'),
        has_function_privilege('anon', 'treasury.drive_stripe_events(int, boolean)', 'execute')],
  array[true, false, false],
  'only the service role drives the applier'
);

select ok(
  (select command = 'select treasury.apply_stripe_events(1000)' and active
   from cron.job where jobname = 'treasury-apply-stripe-events'),
  'pg_cron job treasury-apply-stripe-events applies what no delivery drove'
);

select * from finish();
rollback;
