-- The buyer's note that a payment's refunded total grew to refunded_total.
create or replace function treasury_private.queue_refund_message(payment_id text, refunded_total bigint, refunded_now bigint)
returns void
language sql
volatile
as $$
  select treasury_private.queue_message('refund', 'refund:' || p.id || ':' || refunded_total, p.buyer_id, jsonb_build_object(
    'payment_id', p.id, 'product_title', i.title, 'product_type', p.product_type,
    'amount_minor', refunded_now, 'refunded_total_minor', refunded_total, 'payment_amount_minor', p.amount_minor,
    'currency', p.currency, 'receipt', jsonb_build_object('rpc', 'treasury.receipt', 'payment_id', p.id)))
  from treasury.payments as p
  join treasury.products as i on i.id = p.product_id
  where p.id = queue_refund_message.payment_id
$$;
