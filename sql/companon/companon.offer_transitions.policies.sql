alter table companon.offer_transitions enable row level security;

-- Changed only through the companon offer functions; read by the brand's members, admins and the artist
-- the offer is made to.
grant select on companon.offer_transitions to authenticated, service_role;

drop policy if exists offer_transitions_members_admins_and_artist_read on companon.offer_transitions;
create policy offer_transitions_members_admins_and_artist_read on companon.offer_transitions
  for select to authenticated
  using (
    artist_id = (select auth.uid())
    or brand_id in (select companon.my_brands())
    or (select treasury.is_admin()));
