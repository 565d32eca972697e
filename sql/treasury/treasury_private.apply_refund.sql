-- charge.refunded: amount_refunded is Stripe's cumulative total. What is new
-- since the last recorded total is reversed by allocating the cumulative
-- reversal (refunds and lost disputes) and subtracting what was reversed
-- before, so a full refund in any steps leaves every party at zero.
create or replace function treasury_private.apply_refund(event_id text, occurred timestamptz, charge jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  payment_intent text := treasury_private.stripe_id(charge -> 'payment_intent');
  charge_ref text := treasury_private.stripe_id(charge -> 'id');
  total bigint := treasury_private.json_bigint(charge -> 'amount_refunded');
  refund_currency text := treasury_private.currency_of(charge -> 'currency');
  pay treasury.payments;
  released jsonb;
  reversed bigint;
  open_disputes bigint;
  delta bigint;
  lines bigint[];
  ref text;
begin
  if payment_intent is null and charge_ref is null then
    return treasury_private.outcome('failed', 'the charge names neither a payment_intent nor an id');
  end if;
  if total is null or total < 0 then
    return treasury_private.outcome('failed', 'data.object.amount_refunded must be an integer >= 0');
  end if;
  if refund_currency is null then
    return treasury_private.outcome('failed', 'data.object.currency must be a 3-letter ISO 4217 code');
  end if;

  perform treasury_private.lock_currency(refund_currency);
  pay := treasury_private.find_payment(payment_intent, charge_ref);
  if pay.id is null then
    return treasury_private.outcome('deferred', format('waiting for payment %s', coalesce(payment_intent, 'of charge ' || charge_ref)));
  end if;
  if pay.currency <> refund_currency then
    return treasury_private.outcome('failed', format('payment %s is recorded in %s, this event says %s', pay.id, pay.currency, refund_currency));
  end if;
  released := treasury_private.complete_payment(pay, event_id, null, charge_ref, null);
  -- Read again: the events that waited for the charge may have moved it on.
  pay := treasury_private.find_payment(pay.id, null);
  if total <= pay.refunded_minor then
    return treasury_private.outcome('applied', 'already_recorded')
      || jsonb_build_object('payment_id', pay.id)
      || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
  end if;

  delta := total - pay.refunded_minor;
  reversed := pay.refunded_minor + pay.dispute_lost_minor;
  select coalesce(sum(d.amount_minor), 0)::bigint into open_disputes
  from treasury.disputes as d where d.payment_id = pay.id and d.outcome is null;
  if reversed + delta + open_disputes > pay.amount_minor then
    return treasury_private.outcome('failed', format(
      'refunded total %s with %s lost and %s in open disputes exceeds payment %s of %s',
      total, pay.dispute_lost_minor, open_disputes, pay.id, pay.amount_minor));
  end if;

  lines := coliseum.allocate_refund(pay.amount_minor, pay.shares_bp, reversed, reversed + delta);
  ref := pay.id || ':refunded:' || total;
  insert into public.treasury_splits (payment_id, reason, reference, party_index, party_id, role, amount_minor, currency)
  select pay.id, 'refund', ref, i, pay.party_ids[i], pay.party_roles[i], -lines[i], pay.currency
  from generate_subscripts(lines, 1) as i;
  perform treasury_private.post('refund', ref,
    (select jsonb_agg(jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'payable', pay.currency),
                                         'amount', lines[i]) order by i)
     from generate_subscripts(lines, 1) as i)
    || jsonb_build_array(jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', pay.currency), 'amount', -delta)),
    event_id);
  update treasury.payments as p set refunded_minor = total where p.id = pay.id;
  perform treasury_private.after_refund(pay.id, total);
  perform treasury_private.queue_refund_message(pay.id, total, delta);

  -- A sponsorship's refund is no fan activity either (apply_payment): no artist, no DNA.
  perform passport.log(pay.buyer_id, 'treasury.refund', 'stripe:' || pay.id || ':refund:' || total,
    jsonb_build_object('payment_id', pay.id, 'amount_minor', delta, 'currency', pay.currency),
    case when pay.product_type <> 'sponsorship' then pay.artist_id end, least(occurred, now()), 'treasury');

  return treasury_private.outcome('applied')
    || jsonb_build_object('payment_id', pay.id, 'refunded_minor', total)
    || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
end
$$;
