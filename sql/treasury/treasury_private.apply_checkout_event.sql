-- The checkout.session.* events of the sessions treasury.begin_checkout
-- opened: completed marks the checkout (a payment then goes on to be
-- recorded by apply_event; a subscription is recorded here), expired and
-- async_payment_failed release what it held. Returns null when the rest of
-- apply_event has the event to apply.
create or replace function treasury_private.apply_checkout_event(event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  event_type text := event ->> 'type';
  obj jsonb := event -> 'data' -> 'object';
  sess text := treasury_private.stripe_id(obj -> 'id');
  co treasury.checkouts;
begin
  if event_type not in ('checkout.session.completed', 'checkout.session.expired', 'checkout.session.async_payment_failed') then
    return null;
  end if;
  select * into co from treasury.checkouts as c
  where c.id = treasury_private.as_uuid(obj -> 'metadata' ->> 'checkout_id') or c.session_id = sess
  order by c.id = treasury_private.as_uuid(obj -> 'metadata' ->> 'checkout_id') desc
  limit 1
  for update;

  if event_type = 'checkout.session.completed' then
    if co.id is not null then
      update treasury.checkouts as c
      set status = 'completed', session_id = coalesce(c.session_id, sess), updated_at = now()
      where c.id = co.id and c.status <> 'completed';
    end if;
    if obj ->> 'mode' = 'subscription' then
      return treasury_private.apply_subscription_event(event);
    end if;
    return null;
  end if;

  if co.id is null then
    return treasury_private.outcome('ignored', format('session %s is no checkout of treasury.begin_checkout', coalesce(sess, 'null')));
  end if;
  if event_type = 'checkout.session.expired' and co.status in ('creating', 'open') then
    update treasury.checkouts as c set status = 'expired', session_id = coalesce(c.session_id, sess), updated_at = now()
    where c.id = co.id;
  elsif event_type = 'checkout.session.async_payment_failed' and co.status in ('creating', 'open', 'completed') then
    update treasury.checkouts as c set status = 'failed', failure_code = 'payment_failed', updated_at = now()
    where c.id = co.id;
  else
    return treasury_private.outcome('ignored', format('checkout %s is %s', co.id, co.status));
  end if;
  perform treasury_private.release_checkout(co);
  return treasury_private.outcome('applied', case when co.order_id is not null then 'seats_released' end)
    || jsonb_build_object('checkout_id', co.id);
end
$$;
