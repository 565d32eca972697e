alter table coliseum.currency_rates enable row level security;

grant select on coliseum.currency_rates to anon, authenticated, service_role;

drop policy if exists currency_rates_are_public on coliseum.currency_rates;
create policy currency_rates_are_public on coliseum.currency_rates
  for select to anon, authenticated, service_role using (true);

-- Rates are operator-maintained.
grant insert, update, delete on coliseum.currency_rates to service_role;
