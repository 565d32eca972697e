-- Prices one checkout item of buyer from the database and, for tickets,
-- holds the seats until expires_at (the Checkout Session's end). Returns
-- {product_id, artist_id, plan, quantity, unit_amount, currency, name,
-- order_id, offer_id, metadata}; raises 22023 / P0002 / 55000 with a stable DETAIL
-- code (treasury.begin_checkout lists them).
create or replace function treasury_private.price_item(buyer uuid, item jsonb, expires_at timestamptz, plan_currency text)
returns jsonb
language plpgsql
volatile
as $$
declare
  item_kind text := item ->> 'kind';
  qty bigint := treasury_private.json_bigint(item -> 'quantity');
  ref uuid;
  amount bigint;
  cur text;
  tier concierto.ticket_tiers;
  ev concierto.events;
  prod treasury.products;
  bounds treasury.tip_bounds;
  price coliseum.plan_prices;
  wanted_plan text;
  held jsonb;
begin
  if item_kind in ('ticket', 'drop', 'merch') and (qty is null or qty not between 1 and 10) then
    raise exception using errcode = '22023', detail = 'invalid_item',
      message = format('%s quantity must be an integer from 1 to 10, got %s', item_kind, coalesce(item ->> 'quantity', 'null'));
  end if;

  if item_kind = 'ticket' then
    ref := treasury_private.as_uuid(item ->> 'tier_id');
    if ref is null then
      raise exception using errcode = '22023', detail = 'invalid_item', message = 'ticket tier_id must be a UUID';
    end if;
    select * into tier from concierto.ticket_tiers as t where t.id = ref;
    if not found then
      raise exception using errcode = 'P0002', detail = 'unknown_item', message = format('ticket tier %s not found', ref);
    end if;
    select * into strict prod from treasury.products as p where p.id = tier.product_id;
    if not prod.active then
      raise exception using errcode = '55000', detail = 'not_for_sale', message = format('ticket tier %s is not for sale', ref);
    end if;
    select * into strict ev from concierto.events as e where e.id = tier.event_id;
    -- 55000 sold_out / sale_not_open / sale_closed come from here.
    held := concierto.reserve(tier.id, qty::int);
    update concierto.orders as o set expires_at = price_item.expires_at where o.id = (held ->> 'order_id')::uuid;
    return jsonb_build_object(
      'product_id', prod.id, 'artist_id', prod.artist_id, 'quantity', qty, 'unit_amount', tier.price_minor,
      'currency', tier.currency, 'name', left(ev.title || ' · ' || tier.name, 250), 'order_id', held ->> 'order_id',
      'metadata', held -> 'metadata');
  end if;

  if item_kind = 'tip' then
    ref := treasury_private.as_uuid(item ->> 'artist_id');
    amount := treasury_private.json_bigint(item -> 'amount_minor');
    cur := treasury_private.currency_of(item -> 'currency');
    if ref is null or amount is null or cur is null then
      raise exception using errcode = '22023', detail = 'invalid_item',
        message = 'a tip needs artist_id (UUID), amount_minor (integer, minor units) and currency (ISO 4217)';
    end if;
    select * into bounds from treasury.tip_bounds as b where b.currency = cur;
    if not found then
      raise exception using errcode = '22023', detail = 'unsupported_currency',
        message = format('tips in %s are not accepted', cur),
        hint = format('Tip in one of: %s.', (select string_agg(b.currency, ', ' order by b.currency) from treasury.tip_bounds as b));
    end if;
    if amount not between bounds.min_minor and bounds.max_minor then
      raise exception using errcode = '22023', detail = 'amount_out_of_bounds',
        message = format('a tip in %s must be %s to %s (minor units), got %s', cur, bounds.min_minor, bounds.max_minor, amount);
    end if;
    prod := treasury_private.artist_product(ref, 'tip');
    return jsonb_build_object(
      'product_id', prod.id, 'artist_id', ref, 'quantity', 1, 'unit_amount', amount, 'currency', cur, 'name', prod.title);
  end if;

  if item_kind in ('drop', 'merch') then
    ref := treasury_private.as_uuid(item ->> 'product_id');
    if ref is null then
      raise exception using errcode = '22023', detail = 'invalid_item', message = format('%s product_id must be a UUID', item_kind);
    end if;
    select * into prod from treasury.products as p where p.id = ref and p.type = item_kind;
    if not found then
      raise exception using errcode = 'P0002', detail = 'unknown_item', message = format('%s %s not found', item_kind, ref);
    end if;
    if not prod.active or coalesce(prod.price_minor, 0) = 0 then
      raise exception using errcode = '55000', detail = 'not_for_sale', message = format('%s %s is not for sale', item_kind, ref);
    end if;
    return jsonb_build_object(
      'product_id', prod.id, 'artist_id', prod.artist_id, 'quantity', qty, 'unit_amount', prod.price_minor,
      'currency', prod.currency, 'name', prod.title);
  end if;

  if item_kind = 'sponsorship' then
    return companon_private.price_offer(buyer, item);
  end if;

  if item_kind = 'membership' then
    ref := treasury_private.as_uuid(item ->> 'artist_id');
    if ref is null then
      raise exception using errcode = '22023', detail = 'invalid_item', message = 'membership artist_id must be a UUID';
    end if;
    prod := treasury_private.artist_product(ref, 'membership');
    if coalesce(prod.price_minor, 0) = 0 then
      raise exception using errcode = '55000', detail = 'not_for_sale',
        message = format('the membership of artist %s has no monthly price', ref);
    end if;
    if exists (select 1 from treasury.subscriptions as s
               where s.user_id = buyer and s.kind = 'membership' and s.artist_id = ref
                 and treasury_private.subscription_is_live(s)) then
      raise exception using errcode = '55000', detail = 'already_subscribed',
        message = format('you are a member of artist %s already', ref),
        hint = 'Manage the membership in the billing portal (POST /functions/v1/billing-portal).';
    end if;
    return jsonb_build_object(
      'product_id', prod.id, 'artist_id', ref, 'quantity', 1, 'unit_amount', prod.price_minor,
      'currency', prod.currency, 'name', prod.title);
  end if;

  -- plan
  wanted_plan := lower(item ->> 'plan');
  cur := coalesce(treasury_private.currency_of(item -> 'currency'), case when item -> 'currency' is null then plan_currency end);
  if wanted_plan is null or cur is null then
    raise exception using errcode = '22023', detail = 'invalid_item',
      message = 'a plan item needs plan (basic, pro or enterprise) and, optionally, currency (ISO 4217)';
  end if;
  if not exists (select 1 from coliseum.plan_prices as pp where pp.plan = wanted_plan) then
    raise exception using errcode = 'P0002', detail = 'unknown_item',
      message = format('plan %s is not sold: choose basic, pro or enterprise', wanted_plan);
  end if;
  select * into price from coliseum.plan_prices as pp where pp.plan = wanted_plan and pp.currency = cur;
  if not found then
    raise exception using errcode = '22023', detail = 'unsupported_currency',
      message = format('plan %s is not sold in %s', wanted_plan, cur),
      hint = format('Choose one of: %s.', (select string_agg(pp.currency, ', ' order by pp.currency)
                                           from coliseum.plan_prices as pp where pp.plan = wanted_plan));
  end if;
  if exists (select 1 from treasury.subscriptions as s
             where s.user_id = buyer and s.kind = 'plan' and treasury_private.subscription_is_live(s)) then
    raise exception using errcode = '55000', detail = 'already_subscribed',
      message = 'you have a plan subscription already',
      hint = 'Change or cancel it in the billing portal (POST /functions/v1/billing-portal).';
  end if;
  return jsonb_build_object(
    'plan', wanted_plan, 'quantity', 1, 'unit_amount', price.price_minor, 'currency', price.currency,
    'name', 'Coliseum ' || initcap(wanted_plan) || ' plan');
end
$$;
