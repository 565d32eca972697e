-- Prices a checkout item {"kind": "sponsorship", "offer_id"} for buyer (treasury_private.price_item): an
-- accepted offer of a brand the buyer owns or manages, with no other checkout of it open, paid at the
-- offer's amount and currency as the artist's sponsorship product. Locks the offer, so two checkouts of one
-- offer are started one after the other and the second sees the first. Returns what price_item returns,
-- plus offer_id; raises 22023 invalid_item, P0002 unknown_item, 42501 not_a_payer, 55000 offer_not_payable,
-- checkout_in_progress.
create or replace function companon_private.price_offer(buyer uuid, item jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  ref uuid := treasury_private.as_uuid(item ->> 'offer_id');
  o companon.offers;
  role text;
  live treasury.checkouts;
  prod treasury.products;
  brand_name text;
  campaign_name text;
begin
  if ref is null then
    raise exception using errcode = '22023', detail = 'invalid_item', message = 'sponsorship offer_id must be a UUID';
  end if;
  select * into o from companon.offers as x where x.id = ref for update;
  select m.role into role from companon.brand_members as m where m.brand_id = o.brand_id and m.user_id = buyer;
  if o.id is null or role is null then
    raise exception using errcode = 'P0002', detail = 'unknown_item', message = format('offer %s not found', ref),
      hint = 'A sponsorship is paid by an owner or manager of the brand that made the offer.';
  end if;
  if role not in ('owner', 'manager') then
    raise exception using errcode = '42501', detail = 'not_a_payer',
      message = format('only an owner or manager of its brand can pay offer %s', o.id);
  end if;
  if o.state <> 'accepted' then
    raise exception using errcode = '55000', detail = 'offer_not_payable',
      message = format('offer %s is %s: only an accepted offer is paid', o.id, o.state);
  end if;
  select * into live from treasury.checkouts as c
  where c.offer_id = o.id
    and (c.status = 'completed' or (c.status in ('creating', 'open') and c.expires_at > now()))
  order by c.created_at desc
  limit 1;
  if found then
    raise exception using errcode = '55000', detail = 'checkout_in_progress',
      message = case when live.status = 'completed'
        then format('offer %s has a completed checkout (%s) whose payment has not arrived yet', o.id, live.id)
        else format('offer %s is being paid by checkout %s until %s', o.id, live.id, live.expires_at) end,
      hint = 'Finish that checkout, or wait for it to expire (expiring its session in Stripe ends it at once).';
  end if;

  prod := companon_private.sponsorship_product(o.artist_id, o.currency);
  select b.name into brand_name from companon.brands as b where b.id = o.brand_id;
  select c.name into campaign_name from companon.campaigns as c where c.id = o.campaign_id;
  return jsonb_build_object(
    'product_id', prod.id, 'artist_id', o.artist_id, 'offer_id', o.id, 'quantity', 1, 'unit_amount', o.amount_minor,
    'currency', o.currency, 'name', left('Sponsorship · ' || brand_name || ' · ' || campaign_name, 250),
    'metadata', jsonb_build_object('offer_id', o.id::text, 'campaign_id', o.campaign_id::text, 'brand_id', o.brand_id::text));
end
$$;
