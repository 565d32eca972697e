-- What Treasury does with payout.* and transfer.* events. Contract: called
-- inside the event's transaction with the whole event; returns {"status":
-- applied | ignored | deferred | failed, "note"?: text, ...}; takes
-- treasury_private.lock_currency before it creates accounts or posts.
-- transfer.created confirms an
-- attempt, payout.created notes the payout id, payout.paid pays the payout,
-- transfer.reversed / payout.failed / payout.canceled fail the attempt. The
-- attempt is found by metadata.payout_id (+ payout_attempt), else by the
-- transfer or payout id recorded before, else (payouts of a connected account)
-- by the account, amount and currency of an unfinished attempt. Events that
-- concern no Buckets payout are ignored; inconsistent ones fail with a note
-- (treasury.stripe_event_problems) and change nothing.
create or replace function treasury_private.apply_payout_event(event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  event_type text := event ->> 'type';
  evt_id text := event ->> 'id';
  obj jsonb := event -> 'data' -> 'object';
  occurred timestamptz := treasury_private.event_created(event);
  connected text := case when jsonb_typeof(event -> 'account') = 'string' then event ->> 'account' end;
  object_id text := treasury_private.stripe_id(obj -> 'id');
  meta_payout uuid := treasury_private.as_uuid(obj -> 'metadata' ->> 'payout_id');
  meta_attempt int := case when obj -> 'metadata' ->> 'payout_attempt' ~ '^[1-9][0-9]{0,5}$'
                           then (obj -> 'metadata' ->> 'payout_attempt')::int end;
  amount bigint := treasury_private.json_bigint(obj -> 'amount');
  obj_currency text := treasury_private.currency_of(obj -> 'currency');
  is_transfer boolean := event_type like 'transfer.%';
  target treasury.payout_attempts;
  pay treasury.payouts;
  found_attempt int;
  ids jsonb;
begin
  if event_type not in ('transfer.created', 'transfer.reversed', 'payout.created', 'payout.paid', 'payout.failed', 'payout.canceled') then
    return treasury_private.outcome('ignored', format('%s changes no payout', event_type));
  end if;
  if object_id is null then
    return treasury_private.outcome('failed', 'data.object.id is required');
  end if;

  if meta_payout is not null then
    select a.attempt into found_attempt from treasury.payout_attempts as a
    where a.payout_id = meta_payout
      and (a.attempt = meta_attempt
           or (meta_attempt is null and (case when is_transfer then a.transfer_id else a.stripe_payout_id end) = object_id))
    order by a.attempt desc limit 1;
    if found_attempt is null and meta_attempt is null then
      select p.attempts into found_attempt from treasury.payouts as p where p.id = meta_payout and p.attempts > 0;
    end if;
    if found_attempt is null then
      return treasury_private.outcome('failed', format('metadata.payout_id %s: no such payout or attempt %s', meta_payout,
                                                       coalesce(meta_attempt::text, '(current)')));
    end if;
    target.payout_id := meta_payout;
  elsif is_transfer then
    select a.payout_id, a.attempt into target.payout_id, found_attempt from treasury.payout_attempts as a
    where a.transfer_id = object_id order by a.attempt desc limit 1;
  else
    select a.payout_id, a.attempt into target.payout_id, found_attempt from treasury.payout_attempts as a
    where a.stripe_payout_id = object_id;
    if target.payout_id is null and connected is not null then
      select a.payout_id, a.attempt into target.payout_id, found_attempt from treasury.payout_attempts as a
      where a.stripe_account_id = connected and a.status in ('open', 'transferred') and a.stripe_payout_id is null
        and a.amount_minor = amount and a.currency = obj_currency
      order by a.started_at, a.payout_id limit 1;
    end if;
  end if;
  if target.payout_id is null then
    return treasury_private.outcome('ignored', format('%s %s is not a Buckets payout (no metadata.payout_id, nothing recorded matches)',
                                                      case when is_transfer then 'transfer' else 'payout' end, object_id));
  end if;

  pay := treasury_private.lock_payout(target.payout_id);
  select * into target from treasury.payout_attempts as a
  where a.payout_id = pay.id and a.attempt = found_attempt for update;
  ids := jsonb_build_object('payout_id', pay.id, 'attempt', target.attempt);

  if amount is distinct from target.amount_minor or obj_currency is distinct from target.currency then
    return treasury_private.outcome('failed', format('%s %s is %s %s, attempt %s of payout %s is %s %s', event_type, object_id,
      coalesce(amount::text, 'null'), coalesce(obj_currency, 'null'), target.attempt, pay.id, target.amount_minor, target.currency)) || ids;
  end if;
  if is_transfer and treasury_private.stripe_id(obj -> 'destination') is distinct from target.stripe_account_id then
    return treasury_private.outcome('failed', format('transfer %s goes to %s, attempt %s of payout %s to %s', object_id,
      coalesce(treasury_private.stripe_id(obj -> 'destination'), 'null'), target.attempt, pay.id, target.stripe_account_id)) || ids;
  end if;
  if not is_transfer and connected is not null and connected <> target.stripe_account_id then
    return treasury_private.outcome('failed', format('payout %s is of account %s, attempt %s of payout %s pays %s', object_id,
      connected, target.attempt, pay.id, target.stripe_account_id)) || ids;
  end if;
  if is_transfer and target.transfer_id is not null and target.transfer_id <> object_id then
    return treasury_private.outcome('failed', format('attempt %s of payout %s has transfer %s, not %s', target.attempt, pay.id,
      target.transfer_id, object_id)) || ids;
  end if;
  if not is_transfer and target.stripe_payout_id is not null and target.stripe_payout_id <> object_id then
    return treasury_private.outcome('failed', format('attempt %s of payout %s has Stripe payout %s, not %s', target.attempt, pay.id,
      target.stripe_payout_id, object_id)) || ids;
  end if;

  -- Whatever the event, what it tells of the attempt's Stripe objects is kept.
  if (is_transfer and target.transfer_id is null) or (not is_transfer and target.stripe_payout_id is null) then
    update treasury.payout_attempts as a
    set transfer_id = case when is_transfer then object_id else a.transfer_id end,
        stripe_payout_id = case when is_transfer then a.stripe_payout_id else object_id end,
        status = case when a.status = 'open' and is_transfer then 'transferred' else a.status end
    where a.payout_id = target.payout_id and a.attempt = target.attempt
    returning * into target;
    if event_type in ('transfer.created', 'payout.created') then
      return treasury_private.outcome('applied') || ids;
    end if;
  end if;
  if event_type in ('transfer.created', 'payout.created') then
    if event_type = 'transfer.created' and target.status = 'open' then
      update treasury.payout_attempts as a set status = 'transferred'
      where a.payout_id = target.payout_id and a.attempt = target.attempt;
      return treasury_private.outcome('applied') || ids;
    end if;
    return treasury_private.outcome('applied', 'already_recorded') || ids;
  end if;

  if event_type = 'payout.paid' then
    if target.status = 'paid' then
      return treasury_private.outcome('applied', 'already_recorded') || ids;
    end if;
    if target.status = 'failed' and target.failed_by = 'payout' then
      -- A payout that failed after it was paid: its failure is the later fact.
      return treasury_private.outcome('applied', 'superseded: the payout failed after it was paid') || ids;
    end if;
    if target.status = 'failed' or target.attempt <> pay.attempts or pay.state <> 'processing' then
      return treasury_private.outcome('failed', format('payout.paid for attempt %s (%s) of payout %s, which is %s at attempt %s',
        target.attempt, target.status, pay.id, pay.state, pay.attempts)) || ids;
    end if;
    update treasury.payout_attempts as a set status = 'paid', finished_at = occurred
    where a.payout_id = target.payout_id and a.attempt = target.attempt;
    update treasury.payouts as p set paid_at = occurred, failure_code = null, failure_message = null
    where p.id = pay.id returning * into pay;
    pay := treasury_private.payout_transition(pay, 'paid', null, 'stripe', null, occurred,
      format('Stripe payout %s paid', object_id), evt_id);
    perform passport.log(pay.payee_id, 'treasury.payout_completed', 'payout:' || pay.id || ':completed:' || target.attempt,
      jsonb_build_object('payout_id', pay.id, 'amount_minor', pay.amount_minor, 'currency', pay.currency),
      null, least(occurred, now()), 'treasury');
    perform treasury_private.queue_payout_message(pay.id, target.attempt);
    perform people_private.notify(pay.payee_id, 'payout.paid', 'Your payout was paid',
      'It is on its way to your bank account.',
      jsonb_build_object('payout_id', pay.id, 'amount_minor', pay.amount_minor, 'currency', pay.currency),
      'payout:' || pay.id || ':paid');
    return treasury_private.outcome('applied') || ids || jsonb_build_object('state', pay.state);
  end if;

  -- transfer.reversed, payout.failed, payout.canceled
  if event_type = 'transfer.reversed'
     and treasury_private.json_bigint(obj -> 'amount_reversed') is distinct from target.amount_minor then
    return treasury_private.outcome('failed', format('transfer %s reversed %s of %s: a partial reversal needs an admin',
      object_id, coalesce(treasury_private.json_bigint(obj -> 'amount_reversed')::text, 'null'), target.amount_minor)) || ids;
  end if;
  if event_type = 'transfer.reversed' then
    -- The transfer no longer stands for any attempt that would pay it out.
    update treasury.payout_attempts as a set transfer_reversed_at = coalesce(a.transfer_reversed_at, occurred)
    where a.transfer_id = object_id;
  end if;
  if target.status = 'failed' then
    return treasury_private.outcome('applied', 'already_recorded') || ids;
  end if;
  if target.attempt <> pay.attempts or pay.state not in ('processing', 'paid') then
    return treasury_private.outcome('failed', format('%s for attempt %s (%s) of payout %s, which is %s at attempt %s',
      event_type, target.attempt, target.status, pay.id, pay.state, pay.attempts)) || ids;
  end if;
  pay := treasury_private.payout_attempt_failed(pay, target,
    case when is_transfer then 'transfer' else 'payout' end,
    case event_type when 'transfer.reversed' then 'transfer_reversed' when 'payout.canceled' then 'payout_canceled'
                    else coalesce(nullif(left(obj ->> 'failure_code', 100), ''), 'payout_failed') end,
    nullif(left(obj ->> 'failure_message', 1000), ''),
    occurred, 'stripe', evt_id);
  return treasury_private.outcome('applied') || ids
    || jsonb_build_object('state', pay.state, 'retry_at', pay.due_at);
end
$$;

comment on function treasury_private.apply_payout_event(jsonb) is
  'Applies transfer.created/reversed and payout.created/paid/failed/canceled to the payout attempt they concern; '
  'returns {"status", "note"?, "payout_id"?, "attempt"?, "state"?}. Other payout/transfer events are ignored.';
