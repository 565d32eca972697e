alter table treasury.products enable row level security;

grant select on treasury.products to anon, authenticated, service_role;

drop policy if exists products_are_public on treasury.products;
create policy products_are_public on treasury.products
  for select to anon, authenticated using (true);

grant insert, update, delete on treasury.products
  to service_role;
