-- Starts a checkout for the signed-in user: validates and prices the one
-- item from the database, holds ticket seats for as long as the Checkout
-- Session will be open, records the checkout, and returns the parameters of
-- the Stripe Checkout Session to create (docs/treasury-checkout.md). A
-- client_request_id seen before for this user returns that checkout again,
-- so a retried request repeats the same Stripe call (same Idempotency-Key)
-- or gets the session already created.
create or replace function treasury.begin_checkout(items jsonb, client_request_id text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  item jsonb;
  item_kind text;
  settings treasury.checkout_settings;
  earlier treasury.checkouts;
  co treasury.checkouts;
  priced jsonb;
  md jsonb;
  params jsonb;
  customer text;
begin
  if me is null then
    raise exception using errcode = '42501', detail = 'sign_in_required', message = 'sign in to check out',
      hint = 'Call with a user''s access token.';
  end if;
  if begin_checkout.client_request_id is not null and char_length(begin_checkout.client_request_id) not between 1 and 200 then
    raise exception using errcode = '22023', detail = 'invalid_client_request_id',
      message = 'client_request_id (Idempotency-Key) must be a string of 1 to 200 characters';
  end if;
  if jsonb_typeof(items) is distinct from 'array' or jsonb_array_length(items) = 0 then
    raise exception using errcode = '22023', detail = 'invalid_item', message = 'items must be an array of one item';
  end if;
  if jsonb_array_length(items) > 1 then
    raise exception using errcode = '22023', detail = 'too_many_items',
      message = format('a checkout holds one item, got %s', jsonb_array_length(items)),
      hint = 'Start one checkout per item: each payment books one product.';
  end if;
  item := items -> 0;
  item_kind := case when jsonb_typeof(item) = 'object' then item ->> 'kind' end;
  if item_kind is null or item_kind not in ('ticket', 'tip', 'drop', 'merch', 'membership', 'plan', 'sponsorship') then
    raise exception using errcode = '22023', detail = 'invalid_item',
      message = 'an item must be an object whose kind is ticket, tip, drop, merch, membership, plan or sponsorship';
  end if;

  if begin_checkout.client_request_id is not null then
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      'treasury.begin_checkout:' || me::text || ':' || begin_checkout.client_request_id, 0));
    select * into earlier from treasury.checkouts as c
    where c.buyer_id = me and c.client_request_id = begin_checkout.client_request_id;
    if found then
      return treasury_private.checkout_replay(earlier, item);
    end if;
  end if;

  select * into strict settings from treasury.checkout_settings;
  priced := treasury_private.price_item(me, item, date_trunc('second', now() + settings.session_lifetime), settings.plan_currency);

  insert into treasury.checkouts as c (
    buyer_id, client_request_id, kind, mode, item, product_id, artist_id, plan, quantity, unit_amount_minor,
    amount_minor, currency, order_id, offer_id, session_params, expires_at)
  values (
    me, begin_checkout.client_request_id, item_kind,
    case when item_kind in ('membership', 'plan') then 'subscription' else 'payment' end,
    item, (priced ->> 'product_id')::uuid, (priced ->> 'artist_id')::uuid, priced ->> 'plan',
    (priced ->> 'quantity')::int, (priced ->> 'unit_amount')::bigint,
    (priced ->> 'unit_amount')::bigint * (priced ->> 'quantity')::int, priced ->> 'currency',
    (priced ->> 'order_id')::uuid, (priced ->> 'offer_id')::uuid, '{}', date_trunc('second', now() + settings.session_lifetime))
  returning * into co;

  -- Stripe metadata values are strings; the webhook reads them
  -- (docs/treasury-webhook.md, "Metadata the app puts on a payment").
  md := jsonb_strip_nulls(coalesce(priced -> 'metadata', '{}') || jsonb_build_object(
    'checkout_id', co.id::text,
    'buyer_id', me::text,
    'product_id', co.product_id::text,
    'artist_id', co.artist_id::text,
    'kind', case when co.mode = 'subscription' then co.kind end,
    'plan', co.plan,
    'quantity', case when co.mode = 'payment' then co.quantity::text end));
  select s.customer_id into customer from treasury.stripe_customers as s where s.user_id = me;
  params := jsonb_strip_nulls(jsonb_build_object(
    'mode', co.mode,
    'line_items', jsonb_build_array(jsonb_build_object(
      'price_data', jsonb_strip_nulls(jsonb_build_object(
        'currency', lower(co.currency),
        'unit_amount', co.unit_amount_minor,
        'product_data', jsonb_build_object('name', priced ->> 'name'),
        'recurring', case when co.mode = 'subscription' then jsonb_build_object('interval', 'month') end)),
      'quantity', co.quantity)),
    'metadata', md,
    'payment_intent_data', case when co.mode = 'payment' then jsonb_build_object('metadata', md) end,
    'subscription_data', case when co.mode = 'subscription' then jsonb_build_object('metadata', md) end,
    'client_reference_id', me::text,
    'customer', customer,
    'expires_at', floor(extract(epoch from co.expires_at))::bigint));
  update treasury.checkouts as c set session_params = params where c.id = co.id returning * into co;
  return treasury_private.checkout_answer(co);
end
$$;

comment on function treasury.begin_checkout(jsonb, text) is
  'Signed-in user: prices one item ([{"kind": "ticket", "tier_id", "quantity"} | {"kind": "tip", "artist_id", '
  '"amount_minor", "currency"} | {"kind": "drop"|"merch", "product_id", "quantity"} | {"kind": "membership", '
  '"artist_id"} | {"kind": "plan", "plan", "currency"?} | {"kind": "sponsorship", "offer_id"}]) from the database, holds ticket seats until the session '
  'expires, records a treasury.checkouts row and returns {checkout_id, status, mode, amount_minor, currency, '
  'expires_at, idempotency_key, session_params, session?}. Errors: 22023 / P0002 / 55000 / 42501 with DETAIL '
  'invalid_item, too_many_items, unknown_item, not_for_sale, sold_out, sale_not_open, sale_closed, '
  'amount_out_of_bounds, unsupported_currency, already_subscribed, client_request_id_reused, checkout_closed, '
  'sign_in_required, not_a_payer, offer_not_payable, checkout_in_progress.';

grant execute on function treasury.begin_checkout(jsonb, text) to authenticated;
