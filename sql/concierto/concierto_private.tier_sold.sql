-- Whether a tier sold anything: a paid, refunded or refund_due order, or a
-- reservation that still holds seats. Its price and capacity are then fixed.
create or replace function concierto_private.tier_sold(tier_id uuid)
returns boolean
language sql
stable
as $$
  select exists (select 1 from concierto.orders as o
                 where o.tier_id = tier_sold.tier_id
                   and (o.state in ('paid', 'refund_due', 'refunded') or (o.state = 'reserved' and o.expires_at > now())))
$$;
