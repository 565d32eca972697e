-- A hook for the modules that sell through Treasury, called inside the
-- event's transaction after a refund total grows: Concierto voids the tickets a refund takes back,
-- Companon marks a sponsorship refunded in full; Treasury's own refund requests that the total
-- now covers are refunded.
-- A hook must not raise for a problem with the data (that would make Stripe
-- retry forever): it records the problem and returns.
create or replace function treasury_private.after_refund(payment_id text, refunded_total bigint)
returns void
language plpgsql
volatile
as $$
begin
  perform concierto_private.refund_order(payment_id, refunded_total);
  perform companon_private.refund_offer(payment_id, refunded_total);
  perform treasury_private.settle_refund_requests(payment_id);
end
$$;

comment on function treasury_private.after_refund(text, bigint) is
  'Hook: runs after a payment''s refunded total grows to refunded_total, in its transaction. Concierto voids the '
  'refunded tickets (concierto_private.refund_order); Companon marks a sponsorship refunded in full '
  '(companon_private.refund_offer); the refund requests the total covers are refunded '
  '(treasury_private.settle_refund_requests).';
