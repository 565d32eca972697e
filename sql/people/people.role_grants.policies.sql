alter table people.role_grants enable row level security;

-- A user reads their own grants; admins read every grant. Changes go through
-- the grant and revoke functions.
grant select on people.role_grants to authenticated, service_role;

drop policy if exists role_grants_own_or_admin on people.role_grants;
create policy role_grants_own_or_admin on people.role_grants
  for select to authenticated
  using (user_id = (select auth.uid()) or (select treasury.is_admin()));
