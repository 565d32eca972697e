alter table companon.brands enable row level security;

-- Changed only through the companon functions; read by the brand's members and admins.
grant select on companon.brands to authenticated, service_role;

drop policy if exists brands_members_and_admins_read on companon.brands;
create policy brands_members_and_admins_read on companon.brands
  for select to authenticated
  using (id in (select companon.my_brands()) or (select treasury.is_admin()));
