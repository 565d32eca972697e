-- charge.dispute.created / updated / funds_withdrawn / funds_reinstated /
-- closed. Opening holds each party's share of the disputed amount (payable ->
-- held; the platform's revenue -> dispute_reserve). Won (or an inquiry
-- closed) releases it; lost writes the held shares off against the Stripe
-- balance, like a refund. Any event of a dispute never seen opens it first.
-- Dispute fees and status come from the dispute object of the newest event
-- by Stripe's created (then by how many balance_transactions it lists), so a
-- late, older event changes neither.
create or replace function treasury_private.apply_dispute(event_id text, occurred timestamptz, event_type text, dispute jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  dispute_ref text := treasury_private.stripe_id(dispute -> 'id');
  payment_intent text := treasury_private.stripe_id(dispute -> 'payment_intent');
  charge_ref text := treasury_private.stripe_id(dispute -> 'charge');
  disputed bigint := treasury_private.json_bigint(dispute -> 'amount');
  dispute_currency text := treasury_private.currency_of(dispute -> 'currency');
  stripe_status text := left(dispute ->> 'status', 50);
  closing boolean := event_type = 'charge.dispute.closed';
  pay treasury.payments;
  held treasury.disputes;
  note text;
  reversed bigint;
  open_disputes bigint;
  fees bigint;
  hold bigint[];
  transactions int := case when jsonb_typeof(dispute -> 'balance_transactions') = 'array'
                          then jsonb_array_length(dispute -> 'balance_transactions') end;
  newest boolean;
begin
  -- 200: its ledger references (dp_...:fee#<n>) must fit their 255 characters.
  if dispute_ref is null or char_length(dispute_ref) > 200 then
    return treasury_private.outcome('failed', 'data.object.id must be the dispute id, of at most 200 characters');
  end if;
  if payment_intent is null and charge_ref is null then
    return treasury_private.outcome('failed', 'the dispute names neither a payment_intent nor a charge');
  end if;
  if disputed is null or disputed <= 0 then
    return treasury_private.outcome('failed', 'data.object.amount must be an integer > 0');
  end if;
  if dispute_currency is null then
    return treasury_private.outcome('failed', 'data.object.currency must be a 3-letter ISO 4217 code');
  end if;
  if closing and (stripe_status is null or stripe_status not in ('won', 'lost', 'warning_closed')) then
    return treasury_private.outcome('failed', format('a closed dispute must be won, lost or warning_closed, got %s', coalesce(stripe_status, 'null')));
  end if;

  perform treasury_private.lock_currency(dispute_currency);
  pay := treasury_private.find_payment(payment_intent, charge_ref);
  if pay.id is null then
    return treasury_private.outcome('deferred', format('waiting for payment %s', coalesce(payment_intent, 'of charge ' || charge_ref)));
  end if;
  if pay.currency <> dispute_currency then
    return treasury_private.outcome('failed', format('payment %s is recorded in %s, this event says %s', pay.id, pay.currency, dispute_currency));
  end if;
  perform treasury_private.complete_payment(pay, event_id, null, charge_ref, null);
  pay := treasury_private.find_payment(pay.id, null);

  select * into held from treasury.disputes as d where d.id = dispute_ref for update;
  if not found then
    reversed := pay.refunded_minor + pay.dispute_lost_minor;
    select coalesce(sum(d.amount_minor), 0)::bigint into open_disputes
    from treasury.disputes as d where d.payment_id = pay.id and d.outcome is null;
    if reversed + open_disputes + disputed > pay.amount_minor then
      return treasury_private.outcome('failed', format(
        'dispute %s of %s exceeds what is left of payment %s (%s, of which %s refunded or lost and %s disputed)',
        dispute_ref, disputed, pay.id, pay.amount_minor, reversed, open_disputes));
    end if;
    -- The disputed amount is allocated after everything reversed or held
    -- before it, like one more refund.
    hold := coliseum.allocate_refund(pay.amount_minor, pay.shares_bp, reversed + open_disputes, reversed + open_disputes + disputed);
    insert into treasury.disputes (id, payment_id, amount_minor, currency, reason, status, hold_lines, opened_at)
    values (dispute_ref, pay.id, disputed, dispute_currency, left(dispute ->> 'reason', 200), coalesce(stripe_status, 'unknown'), hold,
            coalesce(to_timestamp(treasury_private.json_bigint(dispute -> 'created')), occurred))
    returning * into held;
    perform treasury_private.post('dispute_hold', dispute_ref,
      (select jsonb_agg(x.line order by x.i, x.side)
       from generate_subscripts(hold, 1) as i
       cross join lateral (values
         (i, 1, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'payable', dispute_currency), 'amount', hold[i])),
         (i, 2, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'held', dispute_currency), 'amount', -hold[i]))
       ) as x(i, side, line)),
      event_id);
    update treasury.payments as p set dispute_state = 'open' where p.id = pay.id;
  else
    note := 'already_recorded';
  end if;

  -- Fees: the net of the fees of the dispute's balance transactions in the
  -- payment's currency, against what is recorded, when this event shows a
  -- newer state than the one recorded.
  newest := held.state_created is null
            or (occurred, coalesce(transactions, 0)) > (held.state_created, held.state_transactions);
  if transactions is not null and newest then
    update treasury.disputes as d set state_created = occurred, state_transactions = transactions where d.id = dispute_ref;
    select coalesce(sum(treasury_private.json_bigint(b.tx -> 'fee')), 0)::bigint into fees
    from jsonb_array_elements(dispute -> 'balance_transactions') as b(tx)
    where coalesce(treasury_private.currency_of(b.tx -> 'currency'), dispute_currency) = dispute_currency;
    if fees <> held.fee_minor then
      -- Each change of the fee is its own transaction, numbered: a total may
      -- come back (1500, then 0 when reinstated, then 1500 again), and each
      -- change must still post. (Before this numbering the reference was
      -- dp_...:fees:<total>; those are counted too.) The dispute row is
      -- locked, so the number is not taken twice.
      perform treasury_private.post('dispute_fee', dispute_ref || ':fee#' || (
          select count(*) + 1 from treasury.ledger_transactions as t
          where t.kind = 'dispute_fee' and starts_with(t.reference, dispute_ref || ':fee')), jsonb_build_array(
        jsonb_build_object('account_id', treasury_private.account(null, 'dispute_losses', dispute_currency), 'amount', fees - held.fee_minor),
        jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', dispute_currency), 'amount', held.fee_minor - fees)),
        event_id);
      update treasury.disputes as d set fee_minor = fees where d.id = dispute_ref;
      note := null;
    end if;
  end if;

  if closing and held.outcome is null then
    note := null;
    if stripe_status = 'lost' then
      perform treasury_private.post('dispute_loss', dispute_ref,
        (select jsonb_agg(jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'held', dispute_currency),
                                             'amount', held.hold_lines[i]) order by i)
         from generate_subscripts(held.hold_lines, 1) as i)
        || jsonb_build_array(jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', dispute_currency),
                                                'amount', -held.amount_minor)),
        event_id);
      insert into public.treasury_splits (payment_id, reason, reference, party_index, party_id, role, amount_minor, currency)
      select pay.id, 'dispute', dispute_ref, i, pay.party_ids[i], pay.party_roles[i], -held.hold_lines[i], dispute_currency
      from generate_subscripts(held.hold_lines, 1) as i;
      update treasury.payments as p
      set dispute_lost_minor = p.dispute_lost_minor + held.amount_minor, dispute_state = 'lost'
      where p.id = pay.id;
      -- A chargeback gives the buyer the money back.
      perform passport.log(pay.buyer_id, 'treasury.refund', 'stripe:' || dispute_ref || ':lost',
        jsonb_build_object('payment_id', pay.id, 'amount_minor', held.amount_minor, 'currency', dispute_currency),
        case when pay.product_type <> 'sponsorship' then pay.artist_id end, least(occurred, now()), 'treasury');
    else
      perform treasury_private.post('dispute_release', dispute_ref,
        (select jsonb_agg(x.line order by x.i, x.side)
         from generate_subscripts(held.hold_lines, 1) as i
         cross join lateral (values
           (i, 1, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'held', dispute_currency), 'amount', held.hold_lines[i])),
           (i, 2, jsonb_build_object('account_id', treasury_private.party_account(pay.party_ids[i], 'payable', dispute_currency), 'amount', -held.hold_lines[i]))
         ) as x(i, side, line)),
        event_id);
      update treasury.payments as p set dispute_state = 'won' where p.id = pay.id;
    end if;
    update treasury.disputes as d
    set outcome = case when stripe_status = 'lost' then 'lost' else 'won' end, status = stripe_status, closed_at = occurred
    where d.id = dispute_ref;
  elsif newest and stripe_status is distinct from held.status and held.outcome is null and stripe_status is not null then
    update treasury.disputes as d set status = stripe_status where d.id = dispute_ref;
  end if;

  return treasury_private.outcome('applied', note) || jsonb_build_object('payment_id', pay.id, 'dispute_id', dispute_ref);
end
$$;
