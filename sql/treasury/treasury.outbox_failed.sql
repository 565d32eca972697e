-- A send failed: retried with backoff (30 s doubling, at most an hour) until
-- 8 attempts, or failed at once when retrying cannot help (the provider
-- refused the message itself); a failed message waits for an operator, who
-- sets it pending again. A message failed for good leaves its Resend request
-- (request_key cleared): set pending again, it goes into a new one.
create or replace function treasury.outbox_failed(id uuid, error text, retryable boolean default true, at timestamptz default now())
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  max_attempts constant int := 8;
  m treasury.outbox;
begin
  if id is null or at is null or retryable is null or nullif(btrim(error), '') is null then
    raise exception using errcode = '22023', message = 'id, error, retryable and at are required';
  end if;
  select * into m from treasury.outbox as x where x.id = outbox_failed.id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('outbox message %s not found', id);
  end if;
  if m.status = 'sending' then
    update treasury.outbox as x
    set status = case when retryable and x.attempts < max_attempts then 'pending' else 'failed' end,
        next_attempt_at = case when retryable and x.attempts < max_attempts
                               then outbox_failed.at + least(interval '1 hour', interval '30 seconds' * power(2, x.attempts - 1))
                               else x.next_attempt_at end,
        leased_until = null,
        request_key = case when retryable and x.attempts < max_attempts then x.request_key end,
        last_error = left(error, 1000)
    where x.id = m.id
    returning * into m;
  end if;
  return jsonb_build_object('id', m.id, 'status', m.status, 'attempts', m.attempts, 'next_attempt_at', m.next_attempt_at,
                            'last_error', m.last_error);
end
$$;

comment on function treasury.outbox_failed(uuid, text, boolean, timestamptz) is
  'The receipts sender reports a failed send (service_role): pending again after a backoff (30 s doubling, at most '
  '1 hour) while retryable and fewer than 8 attempts were made, else failed for an operator. Only a message being '
  'sent changes (a sent one stays sent). Returns {"id", "status", "attempts", "next_attempt_at", "last_error"}. 22023 '
  'bad argument, P0002 unknown message.';

grant execute on function treasury.outbox_failed(uuid, text, boolean, timestamptz) to service_role;
