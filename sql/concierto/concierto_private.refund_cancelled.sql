-- Asks Treasury to give back what is left of a payment for a cancelled event:
-- the amount less what Stripe refunded and lost disputes. The idempotency key
-- is the event's and the payment's, so a second request is answered, not sent.
create or replace function concierto_private.refund_cancelled(pay treasury.payments, ev concierto.events)
returns void
language plpgsql
volatile
as $$
declare
  left_minor bigint := pay.amount_minor - pay.refunded_minor - pay.dispute_lost_minor;
begin
  if left_minor > 0 then
    perform treasury_private.request_refund(pay.id, left_minor, format('event %s cancelled', ev.id),
                                            format('concierto_cancel_%s_%s', ev.id, pay.id));
  end if;
end
$$;
