-- The buyer's receipt of a newly recorded payment. PL/pgSQL, so that its
-- statement's plan is kept for the session: it runs once per payment of a
-- batch.
create or replace function treasury_private.queue_payment_receipt(payment_id text)
returns void
language plpgsql
volatile
as $$
begin
  perform treasury_private.queue_message('payment_receipt', 'payment_receipt:' || p.id, p.buyer_id, jsonb_build_object(
    'payment_id', p.id, 'product_id', p.product_id, 'product_type', p.product_type, 'product_title', i.title,
    'quantity', p.quantity, 'amount_minor', p.amount_minor, 'currency', p.currency, 'paid_at', p.paid_at,
    'receipt', jsonb_build_object('rpc', 'treasury.receipt', 'payment_id', p.id)))
  from treasury.payments as p
  join treasury.products as i on i.id = p.product_id
  where p.id = queue_payment_receipt.payment_id;
end
$$;
