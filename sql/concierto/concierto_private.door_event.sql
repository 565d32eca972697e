-- The event, when the signed-in user is staff of its host; else 42501.
create or replace function concierto_private.door_event(id uuid, me uuid)
returns concierto.events
language plpgsql
stable
as $$
declare
  ev concierto.events := concierto_private.find_event(id);
begin
  if not concierto_private.is_staff_of(ev.host_id, me) then
    raise exception using
      errcode = '42501',
      message = format('you are not staff of event %s', ev.id),
      hint = 'The host adds door staff with concierto.add_staff.';
  end if;
  return ev;
end
$$;
