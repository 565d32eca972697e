-- Voids the tickets a refund pays back: floor(refunded total x seats / amount
-- paid) of them in all, valid ones only, those still held by the buyer first,
-- newest seat first. A refunded seat whose ticket was admitted already is
-- counted in refund_unvoided instead. Voided seats go back on sale. Tickets
-- a cancellation voided count as voided for the refund that follows it.
create or replace function concierto_private.refund_order(payment_id text, refunded_total bigint)
returns void
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  o concierto.orders;
  target int;
  needed int;
  voided int;
  total_voided int := 0;
begin
  update concierto.refunds_due as r
  set refunded_minor = greatest(r.refunded_minor, refunded_total),
      resolved_at = case when refunded_total >= r.amount_minor then coalesce(r.resolved_at, now()) end
  where r.payment_id = refund_order.payment_id;

  select * into o from concierto.orders as x where x.payment_id = refund_order.payment_id for update;
  if not found then
    return;
  end if;
  select * into pay from treasury.payments as p where p.id = refund_order.payment_id;
  update concierto.orders as x
  set refunded_minor = greatest(x.refunded_minor, refunded_total),
      state = case when refunded_total >= pay.amount_minor then 'refunded' else x.state end
  where x.id = o.id;
  if o.state <> 'paid' then
    return;
  end if;

  target := least(o.quantity, floor(refunded_total::numeric * o.quantity / pay.amount_minor))::int;
  select (target - count(*) - o.refund_unvoided)::int into needed
  from public.event_tickets as k where k.order_id = o.id and k.state = 'void';
  -- A ticket admitted while we wait for its lock drops out of the batch;
  -- take the next one until enough are void or none is valid.
  while needed > 0 loop
    with picked as (
      select k.id from public.event_tickets as k
      where k.order_id = o.id and k.state = 'valid'
      order by k.owner_id = o.buyer_id desc, k.seat desc
      limit needed
      for update
    )
    update public.event_tickets as k
    set state = 'void', voided_at = now(), void_reason = 'refund'
    from picked
    where k.id = picked.id;
    get diagnostics voided = row_count;
    exit when voided = 0;
    needed := needed - voided;
    total_voided := total_voided + voided;
  end loop;

  if total_voided > 0 then
    update concierto.ticket_tiers as t set seats_sold = t.seats_sold - total_voided where t.id = o.tier_id;
  end if;
  if needed > 0 then
    update concierto.orders as x set refund_unvoided = x.refund_unvoided + needed where x.id = o.id;
  end if;
end
$$;
