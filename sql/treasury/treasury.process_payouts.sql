create or replace function treasury.process_payouts(at timestamptz default now(), batch_size int default 100)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  due record;
  pay treasury.payouts;
  w treasury.wallets;
  artist record;
  reasons text[];
  notes text[];
  previous treasury.payout_attempts;
  operation text;
  stripe_account text;
  was text;
  sent int := 0;
  retried int := 0;
  held int := 0;
begin
  if at is null then
    raise exception using errcode = '22023', message = 'at is required: the moment the queue runs at';
  end if;
  if batch_size is null or batch_size not between 1 and 10000 then
    raise exception using errcode = '22023',
      message = format('batch_size must be between 1 and 10000, got %s', coalesce(batch_size::text, 'null'));
  end if;

  -- The batch is the longest due; it is worked through currency by currency,
  -- so that concurrent runs take the currencies' locks in the same order.
  for due in
    select b.id, b.currency
    from (select p.id, p.currency, p.due_at from treasury.payouts as p
          where p.due_at <= process_payouts.at and p.state in ('pending', 'failed')
          order by p.due_at, p.id
          limit batch_size) as b
    order by b.currency, b.due_at, b.id
  loop
    perform treasury_private.lock_currency(due.currency);
    select * into pay from treasury.payouts as p
    where p.id = due.id and p.due_at <= process_payouts.at and p.state in ('pending', 'failed')
    for update skip locked;
    continue when not found;

    -- Checked again as it goes: the wallet may have lost its verification,
    -- and the payee may be an artist held since it was queued (what would
    -- come from the held activity waits for coliseum.release_artist).
    reasons := '{}';
    notes := '{}';
    select * into w from treasury.wallets as x where x.user_id = pay.payee_id;
    if w.verification is distinct from 'verified' then
      reasons := reasons || 'wallet_unverified'::text;
      notes := notes || 'the wallet''s Stripe account is not verified (checked when the payout was to be sent)'::text;
    end if;
    select * into artist from treasury_private.artist_hold_check(pay.payee_id, pay.currency, pay.amount_minor, pay.id);
    if artist.held_minor > 0 then
      reasons := reasons || 'artist_held'::text;
      notes := notes || artist.detail;
    end if;
    if cardinality(reasons) > 0 then
      update treasury.payouts as p
      set hold_reasons = reasons, hold_detail = 'Held: ' || array_to_string(notes, '; ') || '.', hold_trace = artist.trace
      where p.id = pay.id
      returning * into pay;
      perform treasury_private.payout_transition(pay, 'held', null, 'queue', null, process_payouts.at, pay.hold_detail);
      held := held + 1;
      continue;
    end if;

    -- A previous attempt whose transfer stands (it was not reversed: the bank
    -- payout or the call after the transfer failed) is retried with a payout
    -- on that connected account, never with a second transfer.
    select * into previous from treasury.payout_attempts as a where a.payout_id = pay.id and a.attempt = pay.attempts;
    if previous.transfer_id is not null and previous.transfer_reversed_at is null then
      operation := 'payout';
      stripe_account := previous.stripe_account_id;
    else
      operation := 'transfer';
      stripe_account := w.stripe_account_id;
    end if;
    was := pay.state;
    update treasury.payouts as p set attempts = p.attempts + 1 where p.id = pay.id returning * into pay;
    insert into treasury.payout_attempts
      (payout_id, attempt, idempotency_key, operation, stripe_account_id, amount_minor, currency, request, transfer_id, started_at)
    values (pay.id, pay.attempts, 'buckets_payout_' || pay.id || '_' || pay.attempts, operation, stripe_account,
            pay.amount_minor, pay.currency,
            treasury_private.attempt_request(pay, pay.attempts, operation, stripe_account,
                                             case when operation = 'payout' then previous.transfer_id end),
            case when operation = 'payout' then previous.transfer_id end,
            process_payouts.at);
    perform treasury_private.payout_transition(pay, 'processing', null, 'queue', null, process_payouts.at,
      format('attempt %s: %s', pay.attempts, case operation when 'transfer' then 'transfer and payout' else 'payout of the standing transfer' end));
    if was = 'failed' then
      retried := retried + 1;
    else
      sent := sent + 1;
    end if;
  end loop;
  return jsonb_build_object('sent', sent, 'retried', retried, 'held', held);
end
$$;

comment on function treasury.process_payouts(timestamptz, int) is
  'The payout queue (pg_cron job treasury-process-payouts, every minute): moves up to batch_size payouts due at '
  '`at` (pending ones, and failed ones whose backoff has elapsed) to processing, recording for each attempt what '
  'the Stripe worker must ask for (treasury.payout_attempts, with idempotency keys); a payout whose wallet is no '
  'longer verified, or that would draw on a held artist''s earnings of the held activity, is held instead. Returns {"sent", "retried", "held"}. Concurrent runs skip each other''s rows.';

grant execute on function treasury.process_payouts(timestamptz, int) to service_role;
