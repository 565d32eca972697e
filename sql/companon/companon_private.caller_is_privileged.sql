-- Superusers, BYPASSRLS roles (service_role) and members of the tables'
-- owner act for the platform: they manage every brand, name the owner of a
-- new brand, and review campaigns. The caller is the role the session
-- switched to (PostgREST's SET ROLE), which definer functions still see.
create or replace function companon_private.caller_is_privileged()
returns boolean
language sql
stable
as $$
  select passport_private.caller_is_privileged('companon.brands')
$$;
