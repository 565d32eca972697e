-- The payment a PaymentIntent id or, without one, a charge id names.
create or replace function treasury_private.find_payment(payment_intent text, charge text)
returns treasury.payments
language plpgsql
stable
as $$
declare
  pay treasury.payments;
begin
  if payment_intent is not null then
    select * into pay from treasury.payments as p where p.id = payment_intent;
  elsif charge is not null then
    select * into pay from treasury.payments as p where p.charge_id = charge;
  end if;
  return pay;
end
$$;
