-- Issues the tickets of a paid order in the payment's transaction: the order
-- named by the metadata of the event that recorded the payment. A payment
-- without order_id is no Concierto order. Problems are recorded in
-- concierto.refunds_due, never raised: Stripe would retry the event forever.
create or replace function concierto_private.pay_order(payment_id text)
returns void
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  ref text;
  o concierto.orders;
  tier concierto.ticket_tiers;
  ev concierto.events;
  problem text;
  headliner uuid;
begin
  select * into pay from treasury.payments as p where p.id = pay_order.payment_id;
  select nullif(e.payload -> 'data' -> 'object' -> 'metadata' ->> 'order_id', '') into ref
  from treasury.stripe_events as e where e.event_id = pay.stripe_event_id;
  if ref is null then
    return;
  end if;

  select * into o from concierto.orders as x where x.id = treasury_private.as_uuid(ref) for update;
  problem := case
    when o.id is null then format('metadata.order_id %s is not an order', ref)
    when o.payment_id is not null then format('order %s was paid by %s already', o.id, o.payment_id)
    when pay.buyer_id <> o.buyer_id then format('buyer %s is not the buyer of order %s', pay.buyer_id, o.id)
    when pay.product_id <> o.product_id then format('product %s is not the product of order %s', pay.product_id, o.id)
    when pay.tier_id is distinct from o.tier_id and pay.tier_id is not null then
      format('tier %s is not the tier of order %s', pay.tier_id, o.id)
    when pay.quantity <> o.quantity then format('quantity %s is not the %s seats of order %s', pay.quantity, o.quantity, o.id)
    when pay.currency <> o.currency then format('currency %s is not the %s of order %s', pay.currency, o.currency, o.id)
  end;
  if problem is not null then
    perform concierto_private.refund_due(pay, o.id, problem);
    return;
  end if;

  -- The event's share lock orders this payment with a cancellation: either the
  -- cancellation voids these tickets, or it committed first and the payment
  -- goes back at once.
  select * into ev from concierto.events as e where e.id = o.event_id for share;
  if ev.state = 'cancelled' then
    problem := format('event_cancelled: event %s was cancelled at %s before payment %s arrived', ev.id, ev.cancelled_at, pay.id);
    update concierto.orders as x set state = 'refund_due', payment_id = pay.id, paid_at = pay.paid_at, note = problem
    where x.id = o.id;
    perform concierto_private.refund_due(pay, o.id, problem);
    perform concierto_private.refund_cancelled(pay, ev);
    return;
  end if;

  -- A live reservation holds its seats; an expired one is paid only when its
  -- seats are still free. Under the tier's lock, like reserve.
  select * into tier from concierto.ticket_tiers as t where t.id = o.tier_id for update;
  if tier.seats_sold + concierto_private.held_seats(tier.id, o.id) + o.quantity > tier.capacity then
    problem := format('sold_out: order %s expired at %s and its seats were sold before payment %s arrived',
                      o.id, o.expires_at, pay.id);
    update concierto.orders as x set state = 'refund_due', payment_id = pay.id, paid_at = pay.paid_at, note = problem
    where x.id = o.id;
    perform concierto_private.refund_due(pay, o.id, problem);
    return;
  end if;

  update concierto.orders as x set state = 'paid', payment_id = pay.id, paid_at = pay.paid_at where x.id = o.id;
  update concierto.ticket_tiers as t set seats_sold = t.seats_sold + o.quantity where t.id = tier.id;
  insert into public.event_tickets (event_id, tier_id, order_id, seat, owner_id)
  select o.event_id, o.tier_id, o.id, s, o.buyer_id
  from generate_series(1, o.quantity) as s;
  perform concierto_private.queue_ticket_message(o.id);

  select a.artist_id into headliner from concierto.event_artists as a where a.event_id = ev.id order by a.position limit 1;
  perform passport.log(o.buyer_id, 'concierto.ticket_purchased', 'concierto:order:' || o.id || ':purchased',
    jsonb_build_object('event_id', ev.id, 'tier_id', o.tier_id, 'quantity', o.quantity, 'amount_minor', pay.amount_minor,
                       'currency', pay.currency, 'city', ev.city, 'country', ev.country),
    headliner, least(pay.paid_at, now()), 'concierto');
  perform passport.log(o.buyer_id, 'concierto.ticket_issued', 'concierto:ticket:' || k.id || ':issued',
    jsonb_build_object('event_id', ev.id, 'ticket_id', k.id), null, least(pay.paid_at, now()), 'concierto')
  from public.event_tickets as k
  where k.order_id = o.id
  order by k.seat;
end
$$;
