-- The artist's product of a type that is sold by artist (tip, membership):
-- the newest active one. P0002 unknown_item when the artist has none,
-- 55000 not_for_sale when none is active.
create or replace function treasury_private.artist_product(artist uuid, product_type text)
returns treasury.products
language plpgsql
stable
as $$
declare
  prod treasury.products;
begin
  select * into prod from treasury.products as p
  where p.artist_id = artist and p.type = product_type
  order by p.active desc, p.created_at desc, p.id
  limit 1;
  if not found then
    raise exception using errcode = 'P0002', detail = 'unknown_item',
      message = format('artist %s has no %s', artist, product_type);
  end if;
  if not prod.active then
    raise exception using errcode = '55000', detail = 'not_for_sale',
      message = format('the %s of artist %s is not for sale', product_type, artist);
  end if;
  return prod;
end
$$;
