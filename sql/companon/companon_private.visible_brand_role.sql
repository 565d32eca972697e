-- brand_role for a brand the caller must see: P0002 when there is no such
-- brand or it is not the caller's to see (the same answer, so a stranger
-- learns nothing), as campaign_role answers for a campaign.
create or replace function companon_private.visible_brand_role(brand_id uuid, what text)
returns text
language plpgsql
stable
as $$
declare
  r text := companon_private.brand_role(brand_id, what);
begin
  if r is null then
    raise exception using
      errcode = 'P0002',
      message = format('brand %s not found', brand_id),
      hint = 'A brand is visible to its members and to admins.';
  end if;
  return r;
end
$$;
