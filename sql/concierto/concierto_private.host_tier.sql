-- A tier its event's host is about to change, locked after its event (the lock
-- order of reservations: event, then tier).
create or replace function concierto_private.host_tier(tier_id uuid, action text)
returns concierto.ticket_tiers
language plpgsql
volatile
as $$
declare
  event uuid := (select t.event_id from concierto.ticket_tiers as t where t.id = host_tier.tier_id);
  ev concierto.events;
  tier concierto.ticket_tiers;
begin
  if event is null then
    raise exception using errcode = 'P0002', message = format('ticket tier %s not found', coalesce(tier_id::text, 'null'));
  end if;
  ev := concierto_private.host_event(event, action);
  perform concierto_private.require_state(ev, array['draft', 'published'], 'a tier change');
  select * into tier from concierto.ticket_tiers as t where t.id = host_tier.tier_id for update;
  if tier.removed_at is not null then
    raise exception using errcode = '55000', detail = 'tier_removed',
      message = format('ticket tier %s was removed at %s', tier.id, tier.removed_at);
  end if;
  return tier;
end
$$;
