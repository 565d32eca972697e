alter table coliseum.plan_prices enable row level security;

revoke all on coliseum.plan_prices from anon, authenticated, service_role;

grant select on coliseum.plan_prices to anon, authenticated, service_role;

grant insert, update, delete on coliseum.plan_prices to service_role;

drop policy if exists plan_prices_are_public on coliseum.plan_prices;
create policy plan_prices_are_public on coliseum.plan_prices
  for select to anon, authenticated using (true);
