alter table companon.offers enable row level security;

-- Changed only through the companon offer functions; read by the brand's members, admins and the artist
-- the offer is made to.
grant select on companon.offers to authenticated, service_role;

drop policy if exists offers_members_admins_and_artist_read on companon.offers;
create policy offers_members_admins_and_artist_read on companon.offers
  for select to authenticated
  using (
    artist_id = (select auth.uid())
    or brand_id in (select companon.my_brands())
    or (select treasury.is_admin()));
