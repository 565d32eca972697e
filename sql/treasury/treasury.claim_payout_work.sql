-- The payout worker's batch: the unfinished attempts whose Stripe calls are
-- still to be made, and the standing transfers of payouts that will not be
-- sent (failed for good, cancelled) to reverse, oldest first. Each row is
-- leased to this run (FOR UPDATE SKIP LOCKED, then leased_until), so
-- concurrent runs never work on the same attempt at the same time; a run that
-- crashed lets its lease run out and the next one repeats the same calls with
-- the same idempotency keys, which Stripe answers once.
create or replace function treasury.claim_payout_work(
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
  attempts jsonb;
  reversals jsonb;
begin
  perform treasury_private.check_claim(batch_size, lease_seconds, at);

  with due as (
    select a.payout_id, a.attempt
    from treasury.payout_attempts as a
    join treasury.payouts as p on p.id = a.payout_id and p.attempts = a.attempt and p.state = 'processing'
    where a.status in ('open', 'transferred') and a.finished_at is null and a.stripe_payout_id is null
      and (a.leased_until is null or a.leased_until <= claim_payout_work.at)
      -- Nothing is sent yet for a payee held since the queue took this
      -- payout: the attempt waits, unclaimed, for the release if the held
      -- activity would fund it. A transfer already made is paid out.
      and not (a.transfer_id is null
               and exists (select from coliseum.artist_holds as h where h.artist_id = p.payee_id and h.released_at is null)
               and (select c.held_minor from treasury_private.artist_hold_check(p.payee_id, p.currency, p.amount_minor, p.id) as c) > 0)
    order by a.started_at, a.payout_id, a.attempt
    limit batch_size
    for update of a skip locked
  ), leased as (
    update treasury.payout_attempts as a
    set claimed_at = claim_payout_work.at,
        leased_until = claim_payout_work.at + make_interval(secs => lease_seconds),
        worker_runs = a.worker_runs + 1
    from due
    where a.payout_id = due.payout_id and a.attempt = due.attempt
    returning a.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'payout_id', l.payout_id, 'attempt', l.attempt, 'operation', l.operation,
           'stripe_account_id', l.stripe_account_id, 'transfer_id', l.transfer_id, 'worker_runs', l.worker_runs,
           'request', l.request) order by l.started_at, l.payout_id, l.attempt), '[]')
  into attempts
  from leased as l;

  -- The payout's latest attempt carries its transfer (a retry by payout alone
  -- names the same one), so one reversal per payout.
  with due as (
    select a.payout_id, a.attempt
    from treasury.payout_attempts as a
    join treasury.payouts as p on p.id = a.payout_id and p.attempts = a.attempt
    where ((p.state = 'failed' and p.due_at is null) or p.state = 'cancelled')
      and a.transfer_id is not null and a.transfer_reversed_at is null
      and a.reversal_id is null and a.reversal_error is null
      and (a.reversal_leased_until is null or a.reversal_leased_until <= claim_payout_work.at)
    order by p.updated_at, a.payout_id
    limit batch_size
    for update of a skip locked
  ), leased as (
    update treasury.payout_attempts as a
    set reversal_key = coalesce(a.reversal_key, 'buckets_payout_' || a.payout_id || '_reversal'),
        reversal_claimed_at = claim_payout_work.at,
        reversal_leased_until = claim_payout_work.at + make_interval(secs => lease_seconds)
    from due
    where a.payout_id = due.payout_id and a.attempt = due.attempt
    returning a.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'payout_id', l.payout_id, 'attempt', l.attempt, 'transfer_id', l.transfer_id,
           'amount', l.amount_minor, 'currency', lower(l.currency), 'idempotency_key', l.reversal_key,
           'metadata', jsonb_build_object('payout_id', l.payout_id::text, 'payout_attempt', l.attempt::text))
           order by l.payout_id), '[]')
  into reversals
  from leased as l;

  return jsonb_build_object('attempts', attempts, 'reversals', reversals);
end
$$;

comment on function treasury.claim_payout_work(int, int, timestamptz) is
  'The payout worker''s batch (service_role): {"attempts": [{"payout_id", "attempt", "operation", "stripe_account_id", '
  '"transfer_id", "worker_runs", "request"}], "reversals": [{"payout_id", "attempt", "transfer_id", "amount", '
  '"currency", "idempotency_key", "metadata"}]}: up to batch_size unfinished attempts whose payout is not created '
  'yet (not those a held artist''s earnings of the held activity would fund, which wait for the release), and '
  'standing transfers of payouts failed for good or cancelled, each leased for lease_seconds (concurrent '
  'runs skip them). 22023 bad argument.';

grant execute on function treasury.claim_payout_work(int, int, timestamptz) to service_role;
