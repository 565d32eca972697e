-- How a system asks Stripe, through the refund worker, to give back part or all
-- of a payment. The payment row is locked first, so two concurrent requests
-- are checked one after the other against what is still refundable: the
-- payment less what Stripe refunded, lost disputes, open disputes and the
-- requests not yet booked. The same idempotency key answers the same request.
create or replace function treasury_private.request_refund(payment_id text, amount_minor bigint, reason text, idempotency_key text)
returns uuid
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  earlier treasury.refund_requests;
  open_disputes bigint;
  open_requests bigint;
  refundable bigint;
  request_id uuid;
begin
  if request_refund.idempotency_key is null or char_length(request_refund.idempotency_key) not between 1 and 255 then
    raise exception using errcode = '22023', detail = 'invalid_idempotency_key',
      message = 'idempotency_key must be a string of 1 to 255 characters (Stripe''s limit)',
      hint = 'Derive it from your own ids, e.g. concierto_cancel_<event id>_<payment id>.';
  end if;
  if request_refund.payment_id is null then
    raise exception using errcode = '22023', detail = 'invalid_payment_id', message = 'payment_id is required';
  end if;
  if request_refund.amount_minor is null or request_refund.amount_minor <= 0 then
    raise exception using errcode = '22023', detail = 'invalid_amount',
      message = format('amount_minor must be an integer > 0 (minor units), got %s', coalesce(request_refund.amount_minor::text, 'null'));
  end if;
  if request_refund.reason is null or char_length(btrim(request_refund.reason)) = 0 or char_length(request_refund.reason) > 500 then
    raise exception using errcode = '22023', detail = 'invalid_reason',
      message = 'reason must be a non-blank string of at most 500 characters';
  end if;

  select * into pay from treasury.payments as p where p.id = request_refund.payment_id for update;
  if not found then
    raise exception using errcode = 'P0002', detail = 'unknown_payment',
      message = format('payment %s is not a recorded payment', request_refund.payment_id),
      hint = 'A payment is recorded when Stripe reports it succeeded (treasury.payments).';
  end if;

  -- After the lock: a concurrent call with the same key has committed by now.
  select * into earlier from treasury.refund_requests as r where r.idempotency_key = request_refund.idempotency_key;
  if found then
    if earlier.payment_id <> request_refund.payment_id or earlier.amount_minor <> request_refund.amount_minor then
      raise exception using errcode = '22023', detail = 'idempotency_key_reused',
        message = format('idempotency_key %s was used for a refund of %s %s of payment %s',
                         request_refund.idempotency_key, earlier.amount_minor, earlier.currency, earlier.payment_id);
    end if;
    return earlier.id;
  end if;

  if pay.id !~ '^pi_' and pay.charge_id is null then
    raise exception using errcode = '55000', detail = 'not_refundable',
      message = format('payment %s has no PaymentIntent or charge recorded yet to refund', pay.id),
      hint = 'Try again once Stripe''s payment events have arrived.';
  end if;
  select coalesce(sum(d.amount_minor), 0)::bigint into open_disputes
  from treasury.disputes as d where d.payment_id = pay.id and d.outcome is null;
  select coalesce(sum(r.amount_minor), 0)::bigint into open_requests
  from treasury.refund_requests as r where r.payment_id = pay.id and r.state in ('requested', 'sent');
  refundable := pay.amount_minor - pay.refunded_minor - pay.dispute_lost_minor - open_disputes - open_requests;
  if request_refund.amount_minor > refundable then
    raise exception using errcode = '55000', detail = 'over_refund',
      message = format('payment %s has %s %s left to refund, asked for %s (paid %s, refunded %s, lost in disputes %s, '
                       'in open disputes %s, in open refund requests %s)',
                       pay.id, greatest(refundable, 0), pay.currency, request_refund.amount_minor, pay.amount_minor,
                       pay.refunded_minor, pay.dispute_lost_minor, open_disputes, open_requests);
  end if;

  insert into treasury.refund_requests as r
    (payment_id, amount_minor, currency, reason, idempotency_key, requested_by, next_attempt_at)
  values (pay.id, request_refund.amount_minor, pay.currency, request_refund.reason, request_refund.idempotency_key,
          auth.uid(), now())
  returning r.id into request_id;
  return request_id;
end
$$;

comment on function treasury_private.request_refund(text, bigint, text, text) is
  'Asks for a refund of amount_minor of payment_id (treasury.payments, in its currency) for reason; the refund '
  'worker sends it to Stripe with idempotency_key as the Idempotency-Key. Returns the request id; the same key '
  'returns the same id. 22023 bad argument or a key reused for another refund (detail idempotency_key_reused); '
  'P0002 unknown payment; 55000 more than is still refundable (detail over_refund).';
