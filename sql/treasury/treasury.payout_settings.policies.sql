alter table treasury.payout_settings enable row level security;

grant select on treasury.payout_settings to anon, authenticated, service_role;

grant insert, update, delete on treasury.payout_settings to service_role;

drop policy if exists payout_settings_are_public on treasury.payout_settings;
create policy payout_settings_are_public on treasury.payout_settings
  for select to anon, authenticated using (true);
