create or replace function treasury.fail_payout_attempt(
  payout_id uuid,
  attempt int,
  code text,
  message text default null,
  transfer_id text default null,
  at timestamptz default now()
)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pay treasury.payouts;
  tried treasury.payout_attempts;
begin
  if payout_id is null or attempt is null or code is null or at is null then
    raise exception using errcode = '22023', message = 'payout_id, attempt, code and at are required';
  end if;
  if transfer_id is not null and transfer_id !~ '^tr_[A-Za-z0-9_]{1,250}$' then
    raise exception using errcode = '22023', message = format('transfer_id must be a Stripe transfer id (tr_...), got %s', transfer_id);
  end if;
  pay := treasury_private.lock_payout(payout_id);
  select * into tried from treasury.payout_attempts as a
  where a.payout_id = fail_payout_attempt.payout_id and a.attempt = fail_payout_attempt.attempt for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('payout %s has no attempt %s', payout_id, attempt);
  end if;
  if tried.status = 'failed' then
    return pay;
  end if;
  if tried.attempt <> pay.attempts or pay.state <> 'processing' or tried.status not in ('open', 'transferred') then
    raise exception using errcode = '55000',
      message = format('attempt %s of payout %s is %s and the payout %s: only the unfinished current attempt fails this way',
                       attempt, payout_id, tried.status, pay.state),
      hint = 'Once Stripe paid or failed it, its events decide (payout.failed, transfer.reversed).';
  end if;
  if tried.transfer_id is not null and transfer_id is not null and tried.transfer_id <> transfer_id then
    raise exception using errcode = '22023',
      message = format('attempt %s of payout %s has transfer %s, not %s', attempt, payout_id, tried.transfer_id, transfer_id);
  end if;
  if tried.transfer_id is null and transfer_id is not null then
    update treasury.payout_attempts as a set transfer_id = fail_payout_attempt.transfer_id
    where a.payout_id = tried.payout_id and a.attempt = tried.attempt
    returning * into tried;
  end if;
  return treasury_private.payout_attempt_failed(pay, tried, 'worker', code, message, at, 'service', null);
end
$$;

comment on function treasury.fail_payout_attempt(uuid, int, text, text, text, timestamptz) is
  'The Stripe worker reports that a call of attempt n failed (an API error: code, message), with the transfer it '
  'had created before, if any (the retry then pays out that transfer instead of transferring again). The payout '
  'is retried after the backoff, or fails for good. Repeating it changes nothing. service_role. 22023 bad argument; '
  'P0002 unknown payout or attempt; 55000 the attempt is over or not the current one.';

grant execute on function treasury.fail_payout_attempt(uuid, int, text, text, text, timestamptz) to service_role;
