-- What Stripe answered the worker for the reversal of a standing transfer:
-- the reversal (trr_...), which reverses the whole transfer, or its refusal
-- (code: message), which is left for an operator and not claimed again.
-- The payout's money was already back in the payee's payable; the
-- transfer.reversed event that follows is recorded as already known.
create or replace function treasury.record_transfer_reversal(
  payout_id uuid,
  attempt int,
  reversal_id text default null,
  error text default null,
  at timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  tried treasury.payout_attempts;
begin
  if payout_id is null or attempt is null or at is null then
    raise exception using errcode = '22023', message = 'payout_id, attempt and at are required';
  end if;
  if (reversal_id is null) = (error is null) then
    raise exception using errcode = '22023', message = 'give either reversal_id (Stripe reversed the transfer) or error (it refused)';
  end if;
  if reversal_id is not null and reversal_id !~ '^trr_[A-Za-z0-9_]{1,250}$' then
    raise exception using errcode = '22023', message = format('reversal_id must be a Stripe transfer reversal id (trr_...), got %s', reversal_id);
  end if;
  perform treasury_private.lock_payout(payout_id);
  select * into tried from treasury.payout_attempts as a
  where a.payout_id = record_transfer_reversal.payout_id and a.attempt = record_transfer_reversal.attempt for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('payout %s has no attempt %s', payout_id, attempt);
  end if;
  if tried.reversal_key is null or tried.transfer_id is null then
    raise exception using errcode = '55000',
      message = format('attempt %s of payout %s has no transfer reversal to record', attempt, payout_id),
      hint = 'Reversals come from treasury.claim_payout_work.';
  end if;
  if tried.reversal_id is not null and reversal_id is not null and tried.reversal_id <> reversal_id then
    raise exception using errcode = '55000',
      message = format('attempt %s of payout %s was reversed by %s, not %s', attempt, payout_id, tried.reversal_id, reversal_id);
  end if;
  if tried.reversal_id is null then
    update treasury.payout_attempts as a
    set reversal_id = record_transfer_reversal.reversal_id,
        reversal_requested_at = case when record_transfer_reversal.reversal_id is not null then record_transfer_reversal.at end,
        reversal_error = case when record_transfer_reversal.reversal_id is null then left(error, 1000) end,
        reversal_leased_until = null
    where a.payout_id = tried.payout_id and a.attempt = tried.attempt
    returning * into tried;
    -- Every attempt that would pay out this transfer sees it gone.
    if tried.reversal_id is not null then
      update treasury.payout_attempts as a set transfer_reversed_at = coalesce(a.transfer_reversed_at, record_transfer_reversal.at)
      where a.transfer_id = tried.transfer_id;
      select * into tried from treasury.payout_attempts as a where a.payout_id = tried.payout_id and a.attempt = tried.attempt;
    end if;
  end if;
  return jsonb_build_object('payout_id', tried.payout_id, 'attempt', tried.attempt, 'transfer_id', tried.transfer_id,
                            'reversal_id', tried.reversal_id, 'reversal_error', tried.reversal_error,
                            'transfer_reversed_at', tried.transfer_reversed_at);
end
$$;

comment on function treasury.record_transfer_reversal(uuid, int, text, text, timestamptz) is
  'The payout worker records the reversal of the standing transfer of attempt n (service_role): reversal_id (trr_...) '
  'when Stripe reversed it, or error (code: message) when it refused (kept for an operator, not claimed again). A '
  'repeat changes nothing. 22023 bad argument, P0002 unknown attempt, 55000 no reversal was claimed for it.';

grant execute on function treasury.record_transfer_reversal(uuid, int, text, text, timestamptz) to service_role;
