create or replace function treasury.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from treasury.admins as a where a.user_id = auth.uid())
$$;

comment on function treasury.is_admin() is
  'Whether the signed-in user is a Treasury admin (a row of treasury.admins). False for anon and service_role.';

-- Functions in this schema start with no grant (sql/foundation/privileges.sql).
grant execute on function treasury.is_admin() to anon, authenticated, service_role;
