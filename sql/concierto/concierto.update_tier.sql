create or replace function concierto.update_tier(
  tier_id uuid,
  price_minor bigint default null,
  capacity int default null,
  sale_starts_at timestamptz default null,
  sale_ends_at timestamptz default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  tier concierto.ticket_tiers := concierto_private.host_tier(update_tier.tier_id, 'changes its tiers');
  starts timestamptz;
  ends timestamptz;
  problem text;
  after concierto.ticket_tiers;
begin
  starts := coalesce(update_tier.sale_starts_at, tier.sale_starts_at);
  ends := coalesce(update_tier.sale_ends_at, tier.sale_ends_at);
  if concierto_private.tier_sold(tier.id) and (update_tier.price_minor is distinct from null and update_tier.price_minor <> tier.price_minor
                 or update_tier.capacity is distinct from null and update_tier.capacity <> tier.capacity) then
    raise exception using errcode = '55000', detail = 'tier_sold',
      message = format('ticket tier %s has sold tickets or holds reservations: its price and capacity are fixed', tier.id),
      hint = 'Create another tier for a new price or more seats.';
  end if;
  problem := case
    when update_tier.price_minor is not null and update_tier.price_minor <= 0 then
      'price_minor must be an integer > 0 (minor units of the event currency)'
    when update_tier.capacity is not null and update_tier.capacity not between 1 and 1000000 then
      'capacity must be 1 to 1000000 seats'
    when not isfinite(starts) or not isfinite(ends) or ends <= starts then 'sale_ends_at must be after sale_starts_at'
  end;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  update concierto.ticket_tiers as t
  set price_minor = coalesce(update_tier.price_minor, t.price_minor), capacity = coalesce(update_tier.capacity, t.capacity),
      sale_starts_at = starts, sale_ends_at = ends
  where t.id = tier.id
  returning * into after;
  -- Nothing was sold at the old price, so the product simply changes price.
  update treasury.products as p set price_minor = after.price_minor
  where p.id = after.product_id and p.price_minor is distinct from after.price_minor;
  perform passport.log(concierto_private.host_actor(concierto_private.find_event(tier.event_id)), 'concierto.event_updated',
    format('concierto:tier:%s:updated:%s', after.id, txid_current()),
    jsonb_build_object('event_id', tier.event_id, 'change', 'tier'), null, now(), 'concierto');
  return to_jsonb(after);
end
$$;

comment on function concierto.update_tier(uuid, bigint, int, timestamptz, timestamptz) is
  'The host changes a tier: price and capacity only while it has sold nothing (no paid or refunded order, no '
  'live reservation: 55000 DETAIL tier_sold otherwise), the sale window at any time; null keeps a value. Returns '
  'the tier. 42501 not the host; P0002 unknown tier; 55000 DETAIL tier_removed / event_cancelled; 22023 bad value.';

grant execute on function concierto.update_tier(uuid, bigint, int, timestamptz, timestamptz) to authenticated, service_role;
