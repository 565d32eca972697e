create or replace function concierto.remove_tier(tier_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  tier concierto.ticket_tiers := concierto_private.host_tier(remove_tier.tier_id, 'removes its tiers');
begin
  if concierto_private.tier_sold(tier.id) then
    raise exception using errcode = '55000', detail = 'tier_sold',
      message = format('ticket tier %s has sold tickets or holds reservations: it stays', tier.id),
      hint = 'End its sale instead (concierto.update_tier with sale_ends_at).';
  end if;
  update concierto.ticket_tiers as t set removed_at = now() where t.id = tier.id;
  update treasury.products as p set active = false where p.id = tier.product_id;
  perform passport.log(concierto_private.host_actor(concierto_private.find_event(tier.event_id)), 'concierto.event_updated',
    format('concierto:tier:%s:removed', tier.id),
    jsonb_build_object('event_id', tier.event_id, 'change', 'tier'), null, now(), 'concierto');
  return true;
end
$$;

comment on function concierto.remove_tier(uuid) is
  'The host removes a tier that has sold nothing: it leaves availability and reserve refuses it (its Treasury '
  'product is deactivated). 55000 DETAIL tier_sold / tier_removed / event_cancelled; 42501 not the host; P0002 unknown tier.';

grant execute on function concierto.remove_tier(uuid) to authenticated, service_role;
