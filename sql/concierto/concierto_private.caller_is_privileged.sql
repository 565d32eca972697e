-- Superusers, BYPASSRLS roles (service_role) and members of the tables'
-- owner: they manage events for hosts. The caller is the role the session
-- switched to (PostgREST's SET ROLE), which definer functions still see.
create or replace function concierto_private.caller_is_privileged()
returns boolean
language sql
stable
as $$
  select passport_private.caller_is_privileged('concierto.events')
$$;
