-- The artist's sponsorship product, made on the first checkout of an offer to them: type sponsorship,
-- no price of its own (each offer names its amount), split by a rule of its own between the artist
-- (85 %) and the platform (15 %), the artist first so that an odd unit goes to them. An existing active
-- product is kept with the rule it has, so Treasury's staff may give an artist another split by making
-- a newer product with another rule (docs/companon.md#the-split). Serialised per artist.
create or replace function companon_private.sponsorship_product(artist uuid, currency text)
returns treasury.products
language plpgsql
volatile
as $$
declare
  prod treasury.products;
  rule uuid;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('companon.sponsorship_product:' || artist::text, 0));
  select * into prod from treasury.products as p
  where p.artist_id = artist and p.type = 'sponsorship' and p.active
  order by p.created_at desc, p.id
  limit 1;
  if found then
    return prod;
  end if;
  insert into treasury.split_rules as s (name) values (format('Sponsorship of artist %s', artist)) returning s.id into rule;
  insert into treasury.split_rule_parties (rule_id, position, party_id, role, share_bp)
  values (rule, 1, artist, 'artist', 8500), (rule, 2, null, 'platform', 1500);
  insert into treasury.products as p (type, title, artist_id, price_minor, currency, split_rule_id)
  values ('sponsorship', 'Brand sponsorship', artist, null, currency, rule)
  returning * into prod;
  return prod;
end
$$;
