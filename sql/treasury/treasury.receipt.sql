create or replace function treasury.receipt(payment_id text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  pay treasury.payments;
  item treasury.products;
begin
  if payment_id is null then
    raise exception using errcode = '22023', message = 'payment_id is required';
  end if;
  if auth.uid() is null and not treasury_private.caller_is_staff() then
    raise exception using errcode = '42501', message = 'sign in to read a receipt';
  end if;
  select * into pay from treasury.payments as p where p.id = receipt.payment_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('payment %s not found', payment_id);
  end if;
  if pay.buyer_id is distinct from auth.uid() and not treasury_private.caller_is_staff() then
    raise exception using errcode = '42501', message = format('payment %s is not yours', payment_id),
      hint = 'A receipt is for its buyer (and Treasury admins).';
  end if;
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

comment on function treasury.receipt(text) is
  'Receipt data for a payment (PaymentIntent id): product, parties of the sale, amounts, refunds, status. Only for '
  'its buyer and Treasury admins: 42501 otherwise; P0002 unknown payment.';

grant execute on function treasury.receipt(text) to authenticated, service_role;
