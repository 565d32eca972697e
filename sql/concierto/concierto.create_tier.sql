create or replace function concierto.create_tier(
  event_id uuid,
  name text,
  price_minor bigint,
  capacity int,
  sale_starts_at timestamptz default now(),
  sale_ends_at timestamptz default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- Locked: a tier created while the event is being published gets its product.
  ev concierto.events := concierto_private.host_event(create_tier.event_id, 'creates its tiers');
  ends timestamptz := coalesce(create_tier.sale_ends_at, ev.starts_at);
  problem text;
  product uuid;
  new_id uuid;
begin
  perform concierto_private.require_state(ev, array['draft', 'published'], 'a new tier');
  problem := case
    when ev.rsvp_capacity is not null then
      format('event %s is free (it takes RSVPs): it has no ticket tiers', ev.id)
    when create_tier.name is null or char_length(create_tier.name) not between 1 and 100 then
      'name must be a string of 1 to 100 characters'
    when exists (select 1 from concierto.ticket_tiers as t where t.event_id = ev.id and t.name = create_tier.name) then
      format('event %s has a tier named %s already', ev.id, create_tier.name)
    when create_tier.price_minor is null or create_tier.price_minor <= 0 then
      'price_minor must be an integer > 0 (minor units of the event currency)'
    when create_tier.capacity is null or create_tier.capacity not between 1 and 1000000 then
      'capacity must be 1 to 1000000 seats'
    when create_tier.sale_starts_at is null or not isfinite(create_tier.sale_starts_at) then 'sale_starts_at is required'
    when not isfinite(ends) or ends <= create_tier.sale_starts_at then
      'sale_ends_at (default: the event''s start) must be after sale_starts_at'
  end;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  -- A draft's split is final only at publication, which creates the product.
  if ev.state = 'published' then
    product := concierto_private.tier_product(ev, create_tier.name, create_tier.price_minor);
  end if;
  insert into concierto.ticket_tiers as t
    (event_id, name, price_minor, currency, capacity, sale_starts_at, sale_ends_at, product_id)
  values (ev.id, create_tier.name, create_tier.price_minor, ev.currency, create_tier.capacity, create_tier.sale_starts_at,
          ends, product)
  returning t.id into new_id;
  return new_id;
end
$$;

comment on function concierto.create_tier(uuid, text, bigint, int, timestamptz, timestamptz) is
  'Creates a ticket tier (price in minor units of the event currency, capacity, sale window; sale_ends_at '
  'defaults to the event''s start) and, once the event is published, its Treasury product with a split rule from '
  'the event''s split (a draft''s tiers get theirs at publication); returns the tier id. For the event''s host or '
  'service_role (42501 otherwise); 22023 names a bad argument (also: a free event has no tiers); 55000 DETAIL '
  'event_cancelled.';

grant execute on function concierto.create_tier(uuid, text, bigint, int, timestamptz, timestamptz) to authenticated, service_role;
