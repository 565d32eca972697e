-- Records a ticket payment Concierto cannot honour, for an operator to refund.
create or replace function concierto_private.refund_due(pay treasury.payments, order_id uuid, reason text)
returns void
language sql
volatile
as $$
  insert into concierto.refunds_due (payment_id, order_id, buyer_id, amount_minor, currency, reason)
  values (pay.id, order_id, pay.buyer_id, pay.amount_minor, pay.currency, reason)
  on conflict (payment_id) do nothing
$$;
