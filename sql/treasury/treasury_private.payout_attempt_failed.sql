-- Attempt n of a (locked) payout failed: retried after the backoff while
-- attempts remain, else the payout fails for good and its money returns to
-- the payee's payable. From processing, or from paid (the bank returned it).
create or replace function treasury_private.payout_attempt_failed(
  pay treasury.payouts,
  attempt treasury.payout_attempts,
  failed_by text,
  code text,
  message text,
  occurred timestamptz,
  actor text,
  event_id text
)
returns treasury.payouts
language plpgsql
volatile
as $$
declare
  rules treasury.payout_settings := treasury_private.payout_settings_for(pay.currency);
  is_final boolean := pay.attempts >= rules.max_attempts or treasury_private.payout_failure_is_final(code);
  retry_at timestamptz;
begin
  update treasury.payout_attempts as a
  set status = 'failed', failed_by = payout_attempt_failed.failed_by, failure_code = left(code, 100),
      failure_message = left(message, 1000), finished_at = occurred
  where a.payout_id = attempt.payout_id and a.attempt = attempt.attempt;
  if not is_final then
    retry_at := occurred + least(rules.retry_max, rules.retry_base * power(2, least(pay.attempts - 1, 30)));
  end if;
  update treasury.payouts as p
  set failure_code = left(code, 100), failure_message = left(message, 1000), paid_at = null
  where p.id = pay.id
  returning * into pay;
  pay := treasury_private.payout_transition(pay, 'failed', retry_at, actor, null, occurred,
    format('attempt %s failed (%s)%s', attempt.attempt, coalesce(code, 'no code'),
           case when is_final then ': final, the money is back in the available balance'
                else format(': retried at %s', retry_at) end),
    event_id);
  if is_final then
    perform passport.log(pay.payee_id, 'treasury.payout_failed', 'payout:' || pay.id || ':failed',
      jsonb_strip_nulls(jsonb_build_object('payout_id', pay.id, 'reason', coalesce(message, code))),
      null, least(occurred, now()), 'treasury');
  end if;
  return pay;
end
$$;
