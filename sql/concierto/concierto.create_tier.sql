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
  ev concierto.events := concierto_private.find_event(create_tier.event_id);
  ends timestamptz := coalesce(create_tier.sale_ends_at, ev.starts_at);
  problem text;
  rule uuid;
  product uuid;
  new_id uuid;
begin
  if not (auth.uid() is not distinct from ev.host_id or concierto_private.caller_is_privileged()) then
    raise exception using
      errcode = '42501',
      message = format('only the host of event %s creates its tiers', ev.id);
  end if;
  problem := case
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

  rule := treasury.define_split_rule(left(format('Concierto: %s / %s', ev.title, create_tier.name), 200),
                                     concierto_private.split_parties(ev));
  -- A host product: the lineup's money is in the split rule, and the sale
  -- reaches the artists' DNA once, through concierto.ticket_purchased.
  insert into treasury.products as p (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
  values ('ticket', left(format('%s: %s', ev.title, create_tier.name), 500), null, ev.host_id, create_tier.price_minor,
          ev.currency, rule)
  returning p.id into product;
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
  'defaults to the event''s start) and its Treasury product with a split rule from the event''s settings; '
  'returns the tier id. For the event''s host or service_role (42501 otherwise); 22023 names a bad argument.';

grant execute on function concierto.create_tier(uuid, text, bigint, int, timestamptz, timestamptz) to authenticated, service_role;
