-- The buyer's tickets of a paid order, one message for all its seats.
create or replace function concierto_private.queue_ticket_message(order_id uuid)
returns void
language sql
volatile
as $$
  select treasury_private.queue_message('ticket_issued', 'ticket_issued:' || o.id, o.buyer_id, jsonb_build_object(
    'order_id', o.id, 'payment_id', o.payment_id, 'quantity', o.quantity,
    'event', jsonb_build_object('id', e.id, 'title', e.title, 'venue', e.venue, 'city', e.city, 'country', e.country,
                                'starts_at', e.starts_at, 'doors_at', e.doors_at),
    'tier', t.name,
    'seats', (select jsonb_agg(k.seat order by k.seat) from public.event_tickets as k where k.order_id = o.id),
    'ticket_ids', (select jsonb_agg(k.id order by k.seat) from public.event_tickets as k where k.order_id = o.id),
    'receipt', jsonb_build_object('rpc', 'treasury.receipt', 'payment_id', o.payment_id)))
  from concierto.orders as o
  join concierto.events as e on e.id = o.event_id
  join concierto.ticket_tiers as t on t.id = o.tier_id
  where o.id = queue_ticket_message.order_id
$$;
