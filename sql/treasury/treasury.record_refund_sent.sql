-- Stripe made the refund of a request (its answer to POST /v1/refunds). A
-- request that Stripe's charge.refunded booking already covers is refunded at
-- once; otherwise the booking marks it (treasury_private.settle_refund_requests).
create or replace function treasury.record_refund_sent(
  id uuid,
  stripe_refund_id text,
  stripe_status text,
  at timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  r treasury.refund_requests;
begin
  if record_refund_sent.id is null or record_refund_sent.at is null
     or record_refund_sent.stripe_refund_id is null or record_refund_sent.stripe_refund_id !~ '^re_[A-Za-z0-9_]{1,250}$'
     or nullif(btrim(record_refund_sent.stripe_status), '') is null then
    raise exception using errcode = '22023',
      message = 'id, at, stripe_refund_id (re_...) and stripe_status are required';
  end if;
  -- In line with the event applier first: the worker records the answers of
  -- several requests in one transaction (treasury_private.queue_behind_batches).
  perform treasury_private.queue_behind_batches();
  -- The payment first, then the request: the order of request_refund and of a
  -- charge.refunded booking, which hold the payment when they settle requests.
  perform from treasury.payments as p
  where p.id = (select x.payment_id from treasury.refund_requests as x where x.id = record_refund_sent.id)
  for update;
  select * into r from treasury.refund_requests as x where x.id = record_refund_sent.id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('refund request %s not found', record_refund_sent.id);
  end if;
  if r.stripe_refund_id is not null and r.stripe_refund_id <> record_refund_sent.stripe_refund_id then
    raise exception using errcode = '55000', detail = 'other_refund',
      message = format('refund request %s was answered with refund %s, not %s', r.id, r.stripe_refund_id,
                       record_refund_sent.stripe_refund_id);
  end if;
  -- failed too: a late answer to a call whose outcome was unknown when it failed
  -- (not a refund Stripe itself reported failed or canceled).
  if r.state = 'requested' or (r.state = 'failed' and r.stripe_status is distinct from 'failed'
                                and r.stripe_status is distinct from 'canceled') then
    update treasury.refund_requests as x
    set state = 'sent', stripe_refund_id = record_refund_sent.stripe_refund_id,
        stripe_status = record_refund_sent.stripe_status, sent_at = record_refund_sent.at,
        next_attempt_at = null, leased_until = null, failed_at = null, last_error = null,
        updated_at = record_refund_sent.at
    where x.id = r.id;
    perform treasury_private.settle_refund_requests(r.payment_id, record_refund_sent.at);
  end if;
  select * into r from treasury.refund_requests as x where x.id = record_refund_sent.id;
  return jsonb_build_object('id', r.id, 'state', r.state, 'stripe_refund_id', r.stripe_refund_id);
end
$$;

comment on function treasury.record_refund_sent(uuid, text, text, timestamptz) is
  'The refund worker records Stripe''s refund for a request (service_role): sent, or refunded at once when Stripe''s '
  'charge.refunded booking already covers it. Repeating it changes nothing. Returns {"id", "state", '
  '"stripe_refund_id"}. 22023 bad argument, P0002 unknown request, 55000 the request has another refund '
  '(detail other_refund).';

grant execute on function treasury.record_refund_sent(uuid, text, text, timestamptz) to service_role;
