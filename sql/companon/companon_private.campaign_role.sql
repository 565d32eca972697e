-- brand_role for the brand of a campaign; P0002 when there is no such
-- campaign or it is not the caller's to see (the same answer, so a stranger
-- learns nothing).
create or replace function companon_private.campaign_role(campaign_id uuid, what text)
returns text
language plpgsql
stable
as $$
declare
  r text := companon_private.brand_role(
    (select c.brand_id from companon.campaigns as c where c.id = campaign_role.campaign_id), what);
begin
  if r is null then
    raise exception using
      errcode = 'P0002',
      message = format('campaign %s not found', campaign_id),
      hint = 'A campaign is visible to the members of its brand and to admins.';
  end if;
  return r;
end
$$;
