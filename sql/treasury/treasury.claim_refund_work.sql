-- The refund worker's batch: the requests due for a call to Stripe, oldest
-- due first, each leased to this run (FOR UPDATE SKIP LOCKED, then
-- leased_until) and counted as an attempt. A run that crashed lets its lease
-- run out and the next run repeats the call with the same idempotency key,
-- which Stripe answers with the refund it made the first time.
create or replace function treasury.claim_refund_work(
  batch_size int default 20,
  lease_seconds int default 300,
  at timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  work jsonb;
begin
  perform treasury_private.check_claim(batch_size, lease_seconds, at);

  with due as (
    select r.id
    from treasury.refund_requests as r
    where r.state = 'requested' and r.next_attempt_at <= claim_refund_work.at
      and (r.leased_until is null or r.leased_until <= claim_refund_work.at)
    order by r.next_attempt_at, r.id
    limit batch_size
    for update skip locked
  ), leased as (
    update treasury.refund_requests as r
    set attempts = r.attempts + 1,
        leased_until = claim_refund_work.at + make_interval(secs => lease_seconds),
        updated_at = claim_refund_work.at
    from due
    where r.id = due.id
    returning r.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', l.id, 'payment_id', l.payment_id,
           'payment_intent', case when l.payment_id ~ '^pi_' then l.payment_id end,
           'charge', case when l.payment_id !~ '^pi_' then p.charge_id end,
           'amount', l.amount_minor, 'currency', lower(l.currency), 'reason', l.reason,
           'idempotency_key', l.idempotency_key, 'attempts', l.attempts)
           order by l.next_attempt_at, l.id), '[]')
  into work
  from leased as l
  join treasury.payments as p on p.id = l.payment_id;
  return work;
end
$$;

comment on function treasury.claim_refund_work(int, int, timestamptz) is
  'The refund worker''s batch (service_role): [{"id", "payment_id", "payment_intent", "charge", "amount", "currency", '
  '"reason", "idempotency_key", "attempts"}], up to batch_size requests due at at (state requested, next_attempt_at '
  'passed, no live lease), each leased for lease_seconds (concurrent runs skip them) and counted in attempts. '
  'payment_intent names a PaymentIntent payment, charge the charge of an invoice''s payment. 22023 bad argument.';

grant execute on function treasury.claim_refund_work(int, int, timestamptz) to service_role;
