-- invoice.paid / invoice.payment_failed of a subscription: the invoice's
-- row in treasury.subscription_invoices (paid: when and through which
-- period end; failed: the earliest failure). A membership's paid invoice is
-- booked as a payment of its product under the invoice id, and logged as
-- membership.started (the first invoice) or membership.renewed.
create or replace function treasury_private.apply_subscription_invoice(s treasury.subscriptions, event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  obj jsonb := event -> 'data' -> 'object';
  evt_id text := event ->> 'id';
  occurred timestamptz := treasury_private.event_created(event);
  inv text := treasury_private.stripe_id(obj -> 'id');
  amount bigint := treasury_private.json_bigint(obj -> 'amount_paid');
  cur text := treasury_private.currency_of(obj -> 'currency');
  reason text := left(obj ->> 'billing_reason', 100);
  period_end timestamptz;
  booked jsonb;
begin
  if inv is null or inv !~ '^in_[A-Za-z0-9_]{1,250}$' then
    return treasury_private.outcome('failed', format('invoice id must be an Invoice id, got %s', coalesce(inv, 'null')));
  end if;

  if event ->> 'type' = 'invoice.payment_failed' then
    insert into treasury.subscription_invoices as i (invoice_id, subscription_id, billing_reason, first_failed_at)
    values (inv, s.id, reason, occurred)
    on conflict (invoice_id) do update set first_failed_at = least(coalesce(i.first_failed_at, excluded.first_failed_at), excluded.first_failed_at);
    return treasury_private.outcome('applied', 'payment_failed');
  end if;

  -- The period a subscription invoice pays is that of its lines (the
  -- invoice's own period_end is the end of the previous one).
  select max(to_timestamp(treasury_private.json_bigint(l -> 'period' -> 'end'))) into period_end
  from jsonb_array_elements(case when jsonb_typeof(obj -> 'lines' -> 'data') = 'array' then obj -> 'lines' -> 'data' else '[]' end) as l;
  period_end := coalesce(period_end, to_timestamp(treasury_private.json_bigint(obj -> 'period_end')));
  if period_end is null then
    return treasury_private.outcome('failed', format('invoice %s names no period (lines.data[].period.end)', inv));
  end if;
  insert into treasury.subscription_invoices as i (invoice_id, subscription_id, billing_reason, amount_minor, currency, period_end, paid_at)
  values (inv, s.id, reason, amount, cur, period_end, occurred)
  on conflict (invoice_id) do update
  set billing_reason = coalesce(i.billing_reason, excluded.billing_reason), amount_minor = excluded.amount_minor,
      currency = excluded.currency, period_end = excluded.period_end, paid_at = least(coalesce(i.paid_at, excluded.paid_at), excluded.paid_at);

  if s.kind <> 'membership' or coalesce(amount, 0) = 0 then
    return treasury_private.outcome('applied', case when s.kind = 'plan' then 'plan_paid' else 'nothing_charged' end);
  end if;
  booked := treasury_private.apply_payment(evt_id, occurred, coalesce((event ->> 'livemode')::boolean, false),
    inv, null, amount, cur,
    jsonb_build_object('product_id', s.product_id::text, 'buyer_id', s.user_id::text, 'artist_id', s.artist_id::text, 'quantity', '1'),
    null, null);
  if booked ->> 'status' <> 'applied' then
    return booked;
  end if;
  update treasury.subscription_invoices as i set payment_id = booked ->> 'payment_id' where i.invoice_id = inv;
  if reason = 'subscription_create' then
    perform passport.log(s.user_id, 'membership.started', 'subscription:' || s.id || ':started',
      jsonb_build_object('membership_id', s.id, 'plan', 'monthly', 'amount_minor', amount, 'currency', cur),
      s.artist_id, least(occurred, now()), 'treasury');
  else
    perform passport.log(s.user_id, 'membership.renewed', 'invoice:' || inv || ':renewed',
      jsonb_build_object('membership_id', s.id, 'amount_minor', amount, 'currency', cur),
      s.artist_id, least(occurred, now()), 'treasury');
  end if;
  return booked;
end
$$;
