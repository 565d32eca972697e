-- A fact about a recorded payment that an event adds: the charge id and the
-- session id (once), the processing fee (posted once). A newly known charge
-- releases the deferred events that name only the charge.
create or replace function treasury_private.complete_payment(
  pay treasury.payments,
  event_id text,
  checkout_session text,
  charge text,
  fee bigint
)
returns jsonb
language plpgsql
volatile
as $$
declare
  released jsonb := '[]'::jsonb;
begin
  if (pay.checkout_session_id is null and checkout_session is not null)
     or (pay.charge_id is null and charge is not null)
     or (pay.fee_minor is null and fee is not null) then
    update treasury.payments as p
    set checkout_session_id = coalesce(p.checkout_session_id, checkout_session),
        charge_id = coalesce(p.charge_id, charge),
        fee_minor = coalesce(p.fee_minor, fee)
    where p.id = pay.id;
  end if;
  if pay.fee_minor is null and fee > 0 then
    perform treasury_private.post('processing_fee', pay.id, jsonb_build_array(
      jsonb_build_object('account_id', treasury_private.account(null, 'processing_fees', pay.currency), 'amount', fee),
      jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', pay.currency), 'amount', -fee)),
      event_id);
  end if;
  if pay.charge_id is null and charge is not null then
    released := treasury_private.apply_deferred(pay.id);
  end if;
  return released;
end
$$;
