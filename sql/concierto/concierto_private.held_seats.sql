-- Seats of a tier held by unexpired reservations, but for one order.
create or replace function concierto_private.held_seats(tier uuid, except_order uuid default null)
returns bigint
language sql
stable
as $$
  select coalesce(sum(o.quantity), 0)
  from concierto.orders as o
  where o.tier_id = tier and o.state = 'reserved' and o.expires_at > now()
    and o.id is distinct from except_order
$$;
