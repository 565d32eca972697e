-- Applies, in Stripe's created order, the deferred events that wait for a
-- payment (by its PaymentIntent, or by its charge when they name no
-- PaymentIntent). Returns [{"event_id", "status"}] of those it tried.
create or replace function treasury_private.apply_deferred(payment_id text)
returns jsonb
language plpgsql
volatile
as $$
declare
  tried text[] := '{}'::text[];
  done jsonb := '[]'::jsonb;
  charge text;
  waiting treasury.stripe_events;
  result jsonb;
begin
  -- One pass applies everything that waited, in Stripe's order, and reports
  -- it: an event applied by this loop that would start a pass of its own (a
  -- refund that teaches the payment its charge id) leaves it to this one.
  if current_setting('treasury.applying_deferred', true) = 'on' then
    return '[]'::jsonb;
  end if;
  perform set_config('treasury.applying_deferred', 'on', true);
  loop
    select p.charge_id into charge from treasury.payments as p where p.id = payment_id;
    select * into waiting
    from treasury.stripe_events as e
    where e.status = 'deferred'
      and (e.payment_intent_id = payment_id or (charge is not null and e.payment_intent_id is null and e.charge_id = charge))
      and e.event_id <> all (tried)
    order by e.stripe_created, e.event_id
    limit 1
    for update;
    exit when not found;

    tried := tried || waiting.event_id;
    result := treasury_private.apply_stored(waiting.event_id, waiting.payload, true);
    done := done || jsonb_build_object('event_id', waiting.event_id, 'status', result ->> 'status');
  end loop;
  perform set_config('treasury.applying_deferred', 'off', true);
  return done;
end
$$;
