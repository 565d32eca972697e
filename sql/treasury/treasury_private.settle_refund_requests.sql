-- Marks refunded the sent requests of a payment that the booked refunds
-- (payments.refunded_minor, Stripe's cumulative amount_refunded) cover, in the
-- order they were sent: charge.refunded carries a total, not the refunds in
-- it, so a request counts as booked once every request sent before it and
-- itself fit in the total. It never marks one early; a refund made outside
-- the requests (Stripe's dashboard) can make one count late.
create or replace function treasury_private.settle_refund_requests(payment_id text, at timestamptz default now())
returns int
language plpgsql
volatile
as $$
declare
  booked bigint;
  settled int;
begin
  -- Held by the caller already (a booking, record_refund_sent): one settlement at a time per payment.
  perform from treasury.payments as p where p.id = settle_refund_requests.payment_id for update;
  select p.refunded_minor - coalesce((select sum(r.amount_minor) from treasury.refund_requests as r
                                      where r.payment_id = p.id and r.state = 'refunded'), 0)::bigint
  into booked
  from treasury.payments as p where p.id = settle_refund_requests.payment_id;
  with sent as (
    select r.id, (sum(r.amount_minor) over (order by r.sent_at, r.id))::bigint as running
    from treasury.refund_requests as r
    where r.payment_id = settle_refund_requests.payment_id and r.state = 'sent'
  )
  update treasury.refund_requests as r
  set state = 'refunded', refunded_at = settle_refund_requests.at, updated_at = settle_refund_requests.at
  from sent
  where r.id = sent.id and sent.running <= booked;
  get diagnostics settled = row_count;
  return settled;
end
$$;

comment on function treasury_private.settle_refund_requests(text, timestamptz) is
  'Marks refunded the sent refund requests of payment_id that its booked refunded total covers, in the order they '
  'were sent. Returns how many. Called after a refund is booked (treasury_private.after_refund) and when the worker '
  'records a refund (treasury.record_refund_sent).';
