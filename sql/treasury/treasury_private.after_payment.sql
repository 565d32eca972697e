-- A hook for the modules that sell through Treasury, called inside the
-- event's transaction after a new payment is recorded
-- (before the events that waited for it): Concierto issues the tickets of the payment's order, Companon
-- marks the offer a sponsorship pays.
-- A hook must not raise for a problem with the data (that would make Stripe
-- retry forever): it records the problem and returns.
create or replace function treasury_private.after_payment(payment_id text)
returns void
language plpgsql
volatile
as $$
begin
  perform concierto_private.pay_order(payment_id);
  perform companon_private.pay_offer(payment_id);
end
$$;

comment on function treasury_private.after_payment(text) is
  'Hook: runs after a new payment is recorded, in its transaction. Concierto issues the tickets of the order its '
  'metadata names (concierto_private.pay_order); Companon marks the offer a sponsorship pays (companon_private.pay_offer).';
