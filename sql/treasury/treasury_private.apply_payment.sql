-- Records the payment of a PaymentIntent: the payment row with its shares,
-- the realised split, the ledger transaction, the fee when known, the
-- Passport events; then applies what waited for it. The second event of a
-- payment (checkout session and PaymentIntent both arrive) only completes it.
create or replace function treasury_private.apply_payment(
  event_id text,
  paid_at timestamptz,
  livemode boolean,
  payment_intent text,
  checkout_session text,
  amount bigint,
  currency text,
  metadata jsonb,
  charge text,
  fee bigint
)
returns jsonb
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  item treasury.products;
  problem text;
  released jsonb;
  buyer uuid;
  artist uuid;
  parties uuid[];
  roles text[];
  shares int[];
  lines bigint[];
begin
  -- A subscription's invoice is booked under its invoice id (apply_subscription_invoice).
  if payment_intent is null or payment_intent !~ '^(pi|in)_[A-Za-z0-9_]{1,250}$' then
    return treasury_private.outcome('failed', format('payment_intent must be a PaymentIntent id, got %s', coalesce(payment_intent, 'null')));
  end if;
  if currency is null then
    return treasury_private.outcome('failed', 'currency must be a 3-letter ISO 4217 code');
  end if;
  if amount is null or amount <= 0 then
    return treasury_private.outcome('failed', 'the amount paid must be an integer > 0 (minor units)');
  end if;

  perform treasury_private.lock_currency(currency);
  pay := treasury_private.find_payment(payment_intent, null);
  if pay.id is not null then
    if pay.currency <> currency then
      return treasury_private.outcome('failed', format('payment %s is recorded in %s, this event says %s', pay.id, pay.currency, currency));
    end if;
    released := treasury_private.complete_payment(pay, event_id, checkout_session, charge, fee);
    return treasury_private.outcome('applied', 'already_recorded')
      || jsonb_build_object('payment_id', pay.id)
      || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
  end if;

  -- A PaymentIntent with no metadata at all is not one the app made (the app
  -- always copies its metadata to the PaymentIntent): a subscription
  -- invoice's payment, booked from invoice.paid, or a payment taken outside
  -- the app. Nothing to book, and nothing an operator must fix.
  if checkout_session is null and (metadata is null or metadata = '{}') then
    return treasury_private.outcome('ignored',
      'the PaymentIntent carries no Buckets metadata (an invoice''s payment, or a payment made outside the app)');
  end if;

  -- The metadata contract (docs/treasury-ledger.md). Stripe metadata values
  -- are strings; an empty one counts as absent.
  metadata := coalesce(metadata, '{}');
  problem := case
    when jsonb_typeof(metadata) <> 'object' then 'metadata must be an object'
    when nullif(metadata ->> 'product_id', '') is null then 'metadata.product_id is required'
    when treasury_private.as_uuid(metadata ->> 'product_id') is null then 'metadata.product_id must be a UUID'
    when nullif(metadata ->> 'buyer_id', '') is null then 'metadata.buyer_id is required'
    when treasury_private.as_uuid(metadata ->> 'buyer_id') is null then 'metadata.buyer_id must be a UUID'
    when nullif(metadata ->> 'quantity', '') !~ '^[1-9][0-9]{0,8}$' then 'metadata.quantity must be an integer >= 1'
    when nullif(metadata ->> 'artist_id', '') is not null and treasury_private.as_uuid(metadata ->> 'artist_id') is null then
      'metadata.artist_id must be a UUID'
    when nullif(metadata ->> 'event_id', '') is not null and treasury_private.as_uuid(metadata ->> 'event_id') is null then
      'metadata.event_id must be a UUID'
    when nullif(metadata ->> 'tier_id', '') is not null and treasury_private.as_uuid(metadata ->> 'tier_id') is null then
      'metadata.tier_id must be a UUID'
  end;
  if problem is null then
    select * into item from treasury.products as p where p.id = (metadata ->> 'product_id')::uuid;
    if not found then
      problem := format('metadata.product_id %s is not a product', metadata ->> 'product_id');
    end if;
  end if;
  if problem is null then
    artist := treasury_private.as_uuid(metadata ->> 'artist_id');
    if artist is not null and item.artist_id is not null and artist <> item.artist_id then
      problem := format('metadata.artist_id %s is not the artist of product %s (%s)', artist, item.id, item.artist_id);
    end if;
  end if;
  if problem is not null then
    return treasury_private.outcome('failed', problem);
  end if;

  buyer := (metadata ->> 'buyer_id')::uuid;
  artist := coalesce(item.artist_id, artist);
  select array_agg(r.party_id order by r.position), array_agg(r.role order by r.position), array_agg(r.share_bp order by r.position)
  into parties, roles, shares
  from treasury.split_rule_parties as r
  where r.rule_id = item.split_rule_id;
  lines := coliseum.allocate_split(amount, shares);

  insert into treasury.payments (
    id, checkout_session_id, charge_id, product_id, product_type, buyer_id, artist_id, host_id, event_id, tier_id,
    quantity, amount_minor, currency, fee_minor, split_rule_id, party_ids, party_roles, shares_bp, livemode, paid_at,
    stripe_event_id)
  values (
    payment_intent, checkout_session, charge, item.id, item.type, buyer, artist, item.host_id,
    treasury_private.as_uuid(metadata ->> 'event_id'), treasury_private.as_uuid(metadata ->> 'tier_id'),
    coalesce(nullif(metadata ->> 'quantity', '')::int, 1), amount, currency, fee, item.split_rule_id,
    parties, roles, shares, livemode, paid_at, apply_payment.event_id)
  returning * into pay;

  insert into public.treasury_splits (payment_id, reason, reference, party_index, party_id, role, amount_minor, currency)
  select pay.id, 'payment', pay.id, i, parties[i], roles[i], lines[i], currency
  from generate_subscripts(lines, 1) as i;

  perform treasury_private.post('payment', pay.id,
    jsonb_build_array(jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', currency), 'amount', amount))
    || (select jsonb_agg(jsonb_build_object('account_id', treasury_private.party_account(parties[i], 'payable', currency),
                                            'amount', -lines[i]) order by i)
        from generate_subscripts(lines, 1) as i),
    event_id);
  if fee > 0 then
    perform treasury_private.post('processing_fee', pay.id, jsonb_build_array(
      jsonb_build_object('account_id', treasury_private.account(null, 'processing_fees', currency), 'amount', fee),
      jsonb_build_object('account_id', treasury_private.account(null, 'stripe_balance', currency), 'amount', -fee)),
      event_id);
  end if;

  -- Passport refuses times ahead of its clock; Stripe's may be, a little. A brand's sponsorship is no
  -- fan's spending on the artist: logged without one, so it moves no DNA.
  perform passport.log(buyer, 'treasury.money_spent', 'stripe:' || pay.id || ':spent',
    jsonb_build_object('payment_id', pay.id, 'amount_minor', amount, 'currency', currency, 'product_type', item.type),
    case when item.type <> 'sponsorship' then artist end, least(paid_at, now()), 'treasury');
  -- The payee's share is no fan activity of an artist: logged without one.
  perform passport.log(parties[i], 'treasury.money_earned', 'stripe:' || pay.id || ':earned:' || roles[i],
    jsonb_build_object('payment_id', pay.id, 'amount_minor', lines[i], 'currency', currency, 'role', roles[i]),
    null, least(paid_at, now()), 'treasury')
  from generate_subscripts(lines, 1) as i
  where parties[i] is not null and lines[i] > 0;

  perform treasury_private.queue_payment_receipt(pay.id);
  perform treasury_private.after_payment(pay.id);
  released := treasury_private.apply_deferred(pay.id);
  return treasury_private.outcome('applied')
    || jsonb_build_object('payment_id', pay.id)
    || case when released <> '[]' then jsonb_build_object('deferred_events', released) else '{}' end;
end
$$;
