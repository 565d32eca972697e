-- refund.created, refund.updated, refund.failed: what Stripe says of a refund
-- Treasury asked for (metadata.refund_request_id, or the refund id the worker
-- recorded). A refund Stripe made is the request's even when the worker's own
-- record of Stripe's answer is late or lost (sent, and settled if already
-- booked); a refund that failed or was canceled fails its request, which no
-- longer holds the amount. Refunds made elsewhere (the dashboard) are only
-- booked, by charge.refunded.
create or replace function treasury_private.apply_refund_event(event_type text, refund jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  refund_id text := treasury_private.stripe_id(refund -> 'id');
  refund_status text := refund ->> 'status';
  request_id uuid := treasury_private.as_uuid(refund -> 'metadata' ->> 'refund_request_id');
  r treasury.refund_requests;
begin
  if refund_id is null or refund_id !~ '^re_[A-Za-z0-9_]{1,250}$' then
    return treasury_private.outcome('failed', 'data.object.id must be a refund id (re_...)');
  end if;
  if nullif(refund_status, '') is null then
    return treasury_private.outcome('failed', 'data.object.status is required');
  end if;
  select * into r from treasury.refund_requests as x
  where x.id = request_id or x.stripe_refund_id = refund_id
  order by x.stripe_refund_id = refund_id desc nulls last
  limit 1;
  if not found then
    return treasury_private.outcome('ignored', format('%s: refund %s is not one Treasury asked for (charge.refunded books it)',
                                                      event_type, refund_id));
  end if;
  -- The payment first, then the request, as the other writers of requests do.
  perform from treasury.payments as p where p.id = r.payment_id for update;
  select * into r from treasury.refund_requests as x where x.id = r.id for update;
  if r.stripe_refund_id is not null and r.stripe_refund_id <> refund_id then
    return treasury_private.outcome('failed', format('refund request %s has refund %s, this event names %s',
                                                     r.id, r.stripe_refund_id, refund_id));
  end if;

  -- failed and canceled are final at Stripe: an older event arriving late changes nothing.
  if r.stripe_status in ('failed', 'canceled') and refund_status not in ('failed', 'canceled') then
    return treasury_private.outcome('applied', format('refund %s is already %s', refund_id, r.stripe_status))
      || jsonb_build_object('refund_request_id', r.id, 'state', r.state, 'payment_id', r.payment_id);
  end if;
  if refund_status in ('failed', 'canceled') then
    update treasury.refund_requests as x
    set state = case when x.state in ('requested', 'sent') then 'failed' else x.state end,
        failed_at = case when x.state in ('requested', 'sent') then now() else x.failed_at end,
        next_attempt_at = case when x.state in ('requested', 'sent') then null else x.next_attempt_at end,
        leased_until = null,
        stripe_refund_id = refund_id, stripe_status = refund_status,
        last_error = format('Stripe''s refund %s is %s: %s', refund_id, refund_status,
                            coalesce(refund ->> 'failure_reason', 'no reason given')),
        updated_at = now()
    where x.id = r.id
    returning * into r;
  elsif r.state in ('requested', 'failed') then
    update treasury.refund_requests as x
    set state = 'sent', stripe_refund_id = refund_id, stripe_status = refund_status, sent_at = now(),
        next_attempt_at = null, leased_until = null, failed_at = null, last_error = null, updated_at = now()
    where x.id = r.id;
    perform treasury_private.settle_refund_requests(r.payment_id);
    select * into r from treasury.refund_requests as x where x.id = r.id;
  else
    update treasury.refund_requests as x
    set stripe_refund_id = refund_id, stripe_status = refund_status, updated_at = now()
    where x.id = r.id
    returning * into r;
  end if;
  return treasury_private.outcome('applied')
    || jsonb_build_object('refund_request_id', r.id, 'state', r.state, 'payment_id', r.payment_id);
end
$$;

comment on function treasury_private.apply_refund_event(text, jsonb) is
  'refund.created / refund.updated / refund.failed (a Refund object): the refund request it belongs to '
  '(metadata.refund_request_id or its recorded refund id) is sent (settled at once when already booked), or '
  'failed when the refund failed or was canceled; any other refund is ignored. Returns {"status", "note"?, '
  '"refund_request_id"?, "state"?, "payment_id"?}.';
