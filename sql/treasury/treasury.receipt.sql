create or replace function treasury.receipt(payment_id text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  pay treasury.payments;
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
  return treasury_private.receipt_data(pay);
end
$$;

comment on function treasury.receipt(text) is
  'Receipt data for a payment (PaymentIntent id): product, parties of the sale, amounts, refunds, status. Only for '
  'its buyer and Treasury admins: 42501 otherwise; P0002 unknown payment.';

grant execute on function treasury.receipt(text) to authenticated, service_role;
