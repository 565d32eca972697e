alter table companon.campaign_day_values enable row level security;

-- Written only by companon_private.measure_pending; read by the brand's members and admins.
grant select on companon.campaign_day_values to authenticated, service_role;

drop policy if exists campaign_day_values_members_and_admins_read on companon.campaign_day_values;
create policy campaign_day_values_members_and_admins_read on companon.campaign_day_values
  for select to authenticated
  using (brand_id in (select companon.my_brands()) or (select treasury.is_admin()));
