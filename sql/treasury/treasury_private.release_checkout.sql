-- Gives back what a checkout held: the seats of its ticket order, while
-- still reserved (a paid order keeps them).
create or replace function treasury_private.release_checkout(co treasury.checkouts)
returns void
language sql
volatile
as $$
  update concierto.orders as o set state = 'expired'
  where o.id = co.order_id and o.state = 'reserved'
$$;
