-- What Stripe answered the worker for a step of an attempt: the transfer
-- (tr_...) or the payout on the connected account (po_...). The events
-- (transfer.created, payout.created) record the same ids; whichever comes
-- first, both converge on one value, and repeating either changes nothing.
create or replace function treasury.record_payout_step(payout_id uuid, attempt int, step text, stripe_id text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  tried treasury.payout_attempts;
  known text;
  id_pattern text := case step when 'transfer' then '^tr_[A-Za-z0-9_]{1,250}$' else '^po_[A-Za-z0-9_]{1,250}$' end;
begin
  if payout_id is null or attempt is null then
    raise exception using errcode = '22023', message = 'payout_id and attempt are required';
  end if;
  if step is null or step not in ('transfer', 'payout') then
    raise exception using errcode = '22023', message = format('step must be transfer or payout, got %s', coalesce(step, 'null'));
  end if;
  if stripe_id is null or stripe_id !~ id_pattern then
    raise exception using errcode = '22023',
      message = format('stripe_id must be a Stripe %s id (%s), got %s', step,
                       case step when 'transfer' then 'tr_...' else 'po_...' end, coalesce(stripe_id, 'null'));
  end if;
  perform treasury_private.lock_payout(payout_id);
  select * into tried from treasury.payout_attempts as a
  where a.payout_id = record_payout_step.payout_id and a.attempt = record_payout_step.attempt for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('payout %s has no attempt %s', payout_id, attempt);
  end if;
  known := case step when 'transfer' then tried.transfer_id else tried.stripe_payout_id end;
  if known is not null and known <> stripe_id then
    raise exception using errcode = '55000',
      message = format('attempt %s of payout %s has %s %s, not %s', attempt, payout_id, step, known, stripe_id),
      hint = 'Each attempt makes one transfer and one payout with its idempotency keys: look at both at Stripe.';
  end if;
  if known is null then
    update treasury.payout_attempts as a
    set transfer_id = case when step = 'transfer' then stripe_id else a.transfer_id end,
        stripe_payout_id = case when step = 'payout' then stripe_id else a.stripe_payout_id end,
        status = case when step = 'transfer' and a.status = 'open' then 'transferred' else a.status end
    where a.payout_id = tried.payout_id and a.attempt = tried.attempt
    returning * into tried;
  end if;
  return jsonb_build_object('payout_id', tried.payout_id, 'attempt', tried.attempt, 'status', tried.status,
                            'transfer_id', tried.transfer_id, 'stripe_payout_id', tried.stripe_payout_id,
                            'recorded', known is null);
end
$$;

comment on function treasury.record_payout_step(uuid, int, text, text) is
  'The payout worker records what Stripe answered for attempt n (service_role): step transfer (tr_...: the attempt '
  'is transferred) or payout (po_...). The same id again, or one an event recorded first, changes nothing '
  '("recorded": false). Returns {"payout_id", "attempt", "status", "transfer_id", "stripe_payout_id", "recorded"}. '
  '22023 bad argument, P0002 unknown attempt, 55000 the attempt has another id for that step.';

grant execute on function treasury.record_payout_step(uuid, int, text, text) to service_role;
