-- The Treasury product a tier is sold as, with a split rule from the event's
-- split. A host product: the lineup's money is in the split rule, and the sale
-- reaches the artists' DNA once, through concierto.ticket_purchased.
create or replace function concierto_private.tier_product(ev concierto.events, tier_name text, price_minor bigint)
returns uuid
language plpgsql
volatile
as $$
declare
  rule uuid := treasury.define_split_rule(left(format('Concierto: %s / %s', ev.title, tier_name), 200),
                                          concierto_private.split_parties(ev));
  product uuid;
begin
  insert into treasury.products as p (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
  values ('ticket', left(format('%s: %s', ev.title, tier_name), 500), null, ev.host_id, price_minor, ev.currency, rule)
  returning p.id into product;
  return product;
end
$$;
