alter table companon.brand_members enable row level security;

-- Changed only through the companon functions; read by the brand's members and admins.
grant select on companon.brand_members to authenticated, service_role;

drop policy if exists brand_members_members_and_admins_read on companon.brand_members;
create policy brand_members_members_and_admins_read on companon.brand_members
  for select to authenticated
  using (brand_id in (select companon.my_brands()) or (select treasury.is_admin()));
