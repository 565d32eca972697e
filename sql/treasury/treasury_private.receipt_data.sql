-- What a receipt shows of a payment (treasury.receipt for its buyer, companon.brand_invoices for the
-- brand that paid a sponsorship): product, parties of the sale, amounts, refunds, status.
create or replace function treasury_private.receipt_data(pay treasury.payments)
returns jsonb
language plpgsql
stable
as $$
declare
  item treasury.products;
begin
  select * into item from treasury.products as p where p.id = pay.product_id;
  return jsonb_build_object(
    'payment_id', pay.id,
    'paid_at', pay.paid_at,
    'buyer_id', pay.buyer_id,
    'product', jsonb_build_object('id', item.id, 'type', item.type, 'title', item.title),
    'artist_id', pay.artist_id,
    'host_id', pay.host_id,
    'event_id', pay.event_id,
    'tier_id', pay.tier_id,
    'quantity', pay.quantity,
    'amount_minor', pay.amount_minor,
    'currency', pay.currency,
    'refunded_minor', pay.refunded_minor,
    'charged_back_minor', pay.dispute_lost_minor,
    'net_minor', pay.amount_minor - pay.refunded_minor - pay.dispute_lost_minor,
    'status', case
      when pay.dispute_state = 'open' then 'disputed'
      when pay.dispute_lost_minor > 0 then 'charged_back'
      when pay.refunded_minor = pay.amount_minor then 'refunded'
      when pay.refunded_minor > 0 then 'partially_refunded'
      else 'paid' end,
    'refunds', coalesce((
      select jsonb_agg(jsonb_build_object('id', r.reference, 'amount_minor', -r.total, 'at', r.at) order by r.at, r.reference)
      from (select s.reference, sum(s.amount_minor) as total, min(s.created_at) as at
            from public.treasury_splits as s
            where s.payment_id = pay.id and s.reason = 'refund'
            group by s.reference) as r), '[]'::jsonb),
    'checkout_session_id', pay.checkout_session_id,
    'charge_id', pay.charge_id,
    'livemode', pay.livemode);
end
$$;
