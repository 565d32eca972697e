alter table companon.campaigns enable row level security;

-- Changed only through the companon functions; read by the brand's members and admins.
grant select on companon.campaigns to authenticated, service_role;

drop policy if exists campaigns_members_and_admins_read on companon.campaigns;
create policy campaigns_members_and_admins_read on companon.campaigns
  for select to authenticated
  using (brand_id in (select companon.my_brands()) or (select treasury.is_admin()));
