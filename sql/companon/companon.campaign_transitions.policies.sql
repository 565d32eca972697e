alter table companon.campaign_transitions enable row level security;

-- Changed only through the companon functions; read by the brand's members and admins.
grant select on companon.campaign_transitions to authenticated, service_role;

drop policy if exists campaign_transitions_members_and_admins_read on companon.campaign_transitions;
create policy campaign_transitions_members_and_admins_read on companon.campaign_transitions
  for select to authenticated
  using (brand_id in (select companon.my_brands()) or (select treasury.is_admin()));
