-- Dispatches a (shape-checked) event by type. Returns {"status", "note"?,
-- "payment_id"?, ...}.
create or replace function treasury_private.apply_event(event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  event_type text := event ->> 'type';
  obj jsonb := event -> 'data' -> 'object';
  evt_id text := event ->> 'id';
  occurred timestamptz := treasury_private.event_created(event);
  live boolean := coalesce((event ->> 'livemode')::boolean, false);
  paid_currency text := treasury_private.currency_of(obj -> 'currency');
  result jsonb;
begin
  -- Checkouts and subscriptions of treasury.begin_checkout (docs/treasury-checkout.md).
  result := treasury_private.apply_checkout_event(event);
  if result is null and (event_type like 'invoice.%' or event_type like 'customer.subscription.%') then
    result := treasury_private.apply_subscription_event(event);
  end if;
  if result is not null then
    return result;
  end if;
  if event_type in ('checkout.session.completed', 'checkout.session.async_payment_succeeded') then
    if obj ->> 'mode' is distinct from 'payment' then
      return treasury_private.outcome('ignored', format('checkout mode %s: only one-off payments are recorded', coalesce(obj ->> 'mode', 'null')));
    end if;
    if obj ->> 'payment_status' is distinct from 'paid' then
      return treasury_private.outcome('ignored', format(
        'payment_status %s: the payment is recorded when it is paid (checkout.session.async_payment_succeeded or payment_intent.succeeded)',
        coalesce(obj ->> 'payment_status', 'null')));
    end if;
    if treasury_private.stripe_id(obj -> 'payment_intent') is null then
      return treasury_private.outcome('ignored', 'the session has no PaymentIntent: nothing was charged');
    end if;
    return treasury_private.apply_payment(evt_id, occurred, live,
      treasury_private.stripe_id(obj -> 'payment_intent'), treasury_private.stripe_id(obj -> 'id'),
      treasury_private.json_bigint(obj -> 'amount_total'), paid_currency, obj -> 'metadata', null, null);
  elsif event_type = 'payment_intent.succeeded' then
    return treasury_private.apply_payment(evt_id, occurred, live,
      treasury_private.stripe_id(obj -> 'id'), null,
      treasury_private.json_bigint(obj -> 'amount_received'), paid_currency, obj -> 'metadata',
      treasury_private.stripe_id(obj -> 'latest_charge'), treasury_private.charge_fee(obj -> 'latest_charge', paid_currency));
  elsif event_type = 'charge.refunded' then
    return treasury_private.apply_refund(evt_id, occurred, obj);
  elsif event_type in ('refund.created', 'refund.updated', 'refund.failed') then
    return treasury_private.apply_refund_event(event_type, obj);
  elsif event_type in ('charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.funds_withdrawn',
                       'charge.dispute.funds_reinstated', 'charge.dispute.closed') then
    return treasury_private.apply_dispute(evt_id, occurred, event_type, obj);
  elsif event_type like 'payout.%' or event_type like 'transfer.%' then
    result := treasury_private.apply_payout_event(event);
    if result ->> 'status' is null or result ->> 'status' not in ('applied', 'ignored', 'deferred', 'failed') then
      raise exception using
        errcode = '22023',
        message = format('treasury_private.apply_payout_event returned status %s for %s', coalesce(result ->> 'status', 'null'), evt_id),
        hint = 'It must return {"status": "applied" | "ignored" | "deferred" | "failed", ...}.';
    end if;
    return result;
  elsif event_type = 'account.updated' then
    return treasury_private.apply_account_event(event);
  end if;
  return treasury_private.outcome('ignored', format('%s is not handled', event_type));
end
$$;
