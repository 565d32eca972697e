alter table treasury.checkout_settings enable row level security;

grant select on treasury.checkout_settings to anon, authenticated, service_role;

grant update on treasury.checkout_settings to service_role;

drop policy if exists checkout_settings_are_public on treasury.checkout_settings;
create policy checkout_settings_are_public on treasury.checkout_settings
  for select to anon, authenticated using (true);
