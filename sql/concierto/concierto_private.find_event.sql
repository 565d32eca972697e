-- The event, or P0002.
create or replace function concierto_private.find_event(id uuid)
returns concierto.events
language plpgsql
stable
as $$
declare
  found_event concierto.events;
begin
  select * into found_event from concierto.events as e where e.id = find_event.id;
  if not found then
    raise exception using errcode = 'P0002', message = format('event %s not found', coalesce(id::text, 'null'));
  end if;
  return found_event;
end
$$;
