-- Who a host action is logged for in Passport: the signed-in caller, or the
-- event's host when the platform acts for them.
create or replace function concierto_private.host_actor(ev concierto.events)
returns uuid
language sql
stable
as $$
  select coalesce(auth.uid(), ev.host_id)
$$;
