-- The event a host is about to change, locked (FOR NO KEY UPDATE: reservations,
-- RSVPs and the cancellation of one event run one at a time). The caller must
-- be its host or the platform; admins too when admins_too (cancellation).
-- action completes the refusal: 'only the host of event <id> <action>'.
create or replace function concierto_private.host_event(event_id uuid, action text, admins_too boolean default false)
returns concierto.events
language plpgsql
volatile
as $$
declare
  ev concierto.events;
begin
  select * into ev from concierto.events as e where e.id = host_event.event_id for no key update;
  if not found then
    raise exception using errcode = 'P0002', message = format('event %s not found', coalesce(host_event.event_id::text, 'null'));
  end if;
  if not (auth.uid() is not distinct from ev.host_id or concierto_private.caller_is_privileged()
          or (admins_too and treasury.is_admin())) then
    raise exception using
      errcode = '42501',
      message = format('only the host of event %s %s', ev.id, action);
  end if;
  return ev;
end
$$;
