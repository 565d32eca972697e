-- A request's call to Stripe did not make a refund. The worker decides
-- (edge/src/refund_worker.rs): retry_in_seconds to try again then, null when
-- Stripe refused the refund itself or the attempts ran out (failed for good).
create or replace function treasury.record_refund_failure(
  id uuid,
  error text,
  retry_in_seconds int,
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
  if record_refund_failure.id is null or record_refund_failure.at is null
     or nullif(btrim(record_refund_failure.error), '') is null then
    raise exception using errcode = '22023', message = 'id, error and at are required';
  end if;
  if record_refund_failure.retry_in_seconds is not null and record_refund_failure.retry_in_seconds not between 1 and 86400 then
    raise exception using errcode = '22023',
      message = format('retry_in_seconds must be between 1 and 86400, or null for a final failure, got %s',
                       record_refund_failure.retry_in_seconds);
  end if;
  -- In line with the event applier first: the worker records the answers of
  -- several requests in one transaction (treasury_private.queue_behind_batches).
  perform treasury_private.queue_behind_batches();
  select * into r from treasury.refund_requests as x where x.id = record_refund_failure.id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('refund request %s not found', record_refund_failure.id);
  end if;
  -- Only a request still waiting for its refund changes: one sent stays sent.
  if r.state = 'requested' then
    update treasury.refund_requests as x
    set state = case when record_refund_failure.retry_in_seconds is null then 'failed' else 'requested' end,
        next_attempt_at = case when record_refund_failure.retry_in_seconds is not null
                               then record_refund_failure.at + make_interval(secs => record_refund_failure.retry_in_seconds) end,
        failed_at = case when record_refund_failure.retry_in_seconds is null then record_refund_failure.at end,
        leased_until = null,
        last_error = left(record_refund_failure.error, 1000),
        updated_at = record_refund_failure.at
    where x.id = r.id
    returning * into r;
  end if;
  return jsonb_build_object('id', r.id, 'state', r.state, 'attempts', r.attempts, 'next_attempt_at', r.next_attempt_at,
                            'last_error', r.last_error);
end
$$;

comment on function treasury.record_refund_failure(uuid, text, int, timestamptz) is
  'The refund worker records a call that made no refund (service_role): tried again retry_in_seconds after at, or '
  'failed for good when retry_in_seconds is null (ask again with a new idempotency key once the cause is fixed). '
  'Only a requested request changes. Returns {"id", "state", "attempts", "next_attempt_at", "last_error"}. 22023 bad '
  'argument, P0002 unknown request.';

grant execute on function treasury.record_refund_failure(uuid, text, int, timestamptz) to service_role;
