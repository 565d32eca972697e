create or replace function concierto.reserve(tier_id uuid, quantity int)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('reserve tickets');
  ev concierto.events;
  tier concierto.ticket_tiers;
  seats_left bigint;
  new_order concierto.orders;
begin
  if reserve.quantity is null or reserve.quantity not between 1 and 10 then
    raise exception using errcode = '22023',
      message = format('quantity must be 1 to 10 tickets, got %s', coalesce(reserve.quantity::text, 'null'));
  end if;
  -- The event first (shared: a cancellation waits for reservations, and they
  -- for it), then the tier: one reservation of a tier at a time, so what is
  -- left is read and taken under this lock and concurrent buyers never oversell.
  select * into ev from concierto.events as e
  where e.id = (select t.event_id from concierto.ticket_tiers as t where t.id = reserve.tier_id)
  for share;
  select * into tier from concierto.ticket_tiers as t where t.id = reserve.tier_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('ticket tier %s not found', coalesce(reserve.tier_id::text, 'null'));
  end if;
  if ev.state = 'draft' then
    raise exception using errcode = '55000', detail = 'event_draft',
      message = format('event %s is not on sale yet: the host publishes it once its lineup accepted', ev.id);
  elsif ev.state = 'cancelled' then
    raise exception using errcode = '55000', detail = 'event_cancelled',
      message = format('event %s was cancelled', ev.id);
  elsif tier.removed_at is not null then
    raise exception using errcode = '55000', detail = 'tier_removed',
      message = format('ticket tier %s was removed from sale', tier.id);
  end if;
  if now() < tier.sale_starts_at then
    raise exception using errcode = '55000', detail = 'sale_not_open',
      message = format('tickets of tier %s go on sale at %s', tier.id, tier.sale_starts_at);
  end if;
  if now() >= tier.sale_ends_at then
    raise exception using errcode = '55000', detail = 'sale_closed',
      message = format('the sale of tier %s closed at %s', tier.id, tier.sale_ends_at);
  end if;
  seats_left := tier.capacity - tier.seats_sold - concierto_private.held_seats(tier.id);
  if reserve.quantity > seats_left then
    raise exception using errcode = '55000', detail = 'sold_out',
      message = case when seats_left <= 0 then format('tier %s is sold out', tier.id)
                     else format('tier %s has %s tickets left, %s asked', tier.id, seats_left, reserve.quantity) end,
      hint = 'Seats held by checkouts come back when they expire (15 minutes).';
  end if;

  insert into concierto.orders as o (buyer_id, event_id, tier_id, product_id, quantity, amount_minor, currency, expires_at)
  values (me, tier.event_id, tier.id, tier.product_id, reserve.quantity, tier.price_minor * reserve.quantity, tier.currency,
          now() + interval '15 minutes')
  returning * into new_order;
  return jsonb_build_object(
    'order_id', new_order.id,
    'expires_at', new_order.expires_at,
    'product_id', new_order.product_id,
    'amount_minor', new_order.amount_minor,
    'currency', new_order.currency,
    -- Stripe metadata values are strings.
    'metadata', jsonb_build_object(
      'product_id', new_order.product_id::text,
      'buyer_id', me::text,
      'quantity', new_order.quantity::text,
      'event_id', new_order.event_id::text,
      'tier_id', new_order.tier_id::text,
      'order_id', new_order.id::text));
end
$$;

comment on function concierto.reserve(uuid, int) is
  'Holds quantity (1..10) seats of a tier for the signed-in buyer for 15 minutes and returns {order_id, '
  'expires_at, product_id, amount_minor, currency, metadata}: put metadata on the Stripe Checkout Session and its '
  'PaymentIntent. 55000 with DETAIL sold_out / sale_not_open / sale_closed / event_draft (not published yet) / '
  'event_cancelled / tier_removed; 22023 bad quantity; P0002 unknown '
  'tier; 42501 without a user.';

grant execute on function concierto.reserve(uuid, int) to authenticated;
