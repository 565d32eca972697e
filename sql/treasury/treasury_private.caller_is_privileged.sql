-- Roles that read every money table anyway: superusers, BYPASSRLS roles
-- (service_role) and members of the tables' owner. The caller is the role
-- the session switched to with SET ROLE (PostgREST does so per request): the
-- `role` setting stays the caller's inside security definer functions.
create or replace function treasury_private.caller_is_privileged()
returns boolean
language sql
stable
as $$
  select passport_private.caller_is_privileged('treasury.accounts')
$$;
