-- Whether the calling role reads `rel` without row level security anyway:
-- a superuser, a BYPASSRLS role (service_role) or a member of the table's
-- owner. The caller is the role the session switched to with SET ROLE
-- (PostgREST does so per request), read from the `role` setting: unlike
-- current_user it stays the caller's inside security definer functions.
-- Shared by every system (Coliseum's plans, Treasury's and Concierto's
-- privileged paths), so they all draw the line in the same place.
--
-- PL/pgSQL, not SQL: the body (a subquery, which the planner never inlines)
-- keeps one plan per session instead of being planned again on every call,
-- and planning the catalog join cost several times what running it does.
create or replace function passport_private.caller_is_privileged(rel regclass)
returns boolean
language plpgsql
stable
as $$
begin
  return coalesce((
    select r.rolsuper or r.rolbypassrls or pg_catalog.pg_has_role(r.oid, c.relowner, 'MEMBER')
    from pg_catalog.pg_roles as r,
         pg_catalog.pg_class as c
    where r.rolname = coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user)
      and c.oid = rel), false);
end
$$;
