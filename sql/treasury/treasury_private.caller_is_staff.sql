-- A Treasury admin (treasury.admins) or a privileged role.
create or replace function treasury_private.caller_is_staff()
returns boolean
language sql
stable
as $$
  select treasury_private.caller_is_privileged() or treasury.is_admin()
$$;
