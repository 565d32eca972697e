-- The brand's side: a campaign's offers, newest first, optionally of one state. For its brand's members,
-- admins and the platform; P0002 for anyone else.
create or replace function companon.campaign_offers(campaign_id uuid, in_state text default null)
returns setof companon.offers
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform companon_private.offer_state_arg(campaign_offers.in_state);
  perform companon_private.campaign_role(campaign_offers.campaign_id, 'read a campaign''s offers');
  return query
    select o.* from companon.offers as o
    where o.campaign_id = campaign_offers.campaign_id and (campaign_offers.in_state is null or o.state = campaign_offers.in_state)
    order by o.created_at desc, o.id;
end
$$;

comment on function companon.campaign_offers(uuid, text) is
  'A campaign''s offers, newest first (in_state: only those in it). For the members of its brand, admins and the '
  'platform. 22023 unknown state; P0002 campaign not found (or not yours to see).';

grant execute on function companon.campaign_offers(uuid, text) to authenticated, service_role;
