-- The plan the caller reads under: 'public' for anon, the stored plan or
-- 'free' for a signed-in user (also once a plan's expires_at has passed: a
-- subscription's plan ends with its period even before any event removes
-- the row), null for roles that are not subject to plans.
--
-- The caller is the role the session switched to with SET ROLE (PostgREST
-- does so for every request), read from the `role` setting: unlike
-- current_user it stays the caller's inside security definer functions, and
-- only a member of a role can switch to it. Roles that read
-- coliseum_domain_strength without row level security anyway (superusers,
-- BYPASSRLS roles such as service_role, the table's owner) get null: limiting
-- only their RPC reads would make the paths disagree. Any other role is
-- treated as anon.
--
-- PL/pgSQL, not SQL: every board read asks, and a security definer SQL
-- function is planned again on every call; this body keeps its plans for
-- the session.
create or replace function coliseum.my_plan()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if passport_private.caller_is_privileged('public.coliseum_domain_strength') then
    return null;
  end if;
  if coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user) = 'authenticated'
     and auth.uid() is not null then
    return coalesce((select u.plan from coliseum.user_plans as u
                     where u.user_id = auth.uid() and (u.expires_at is null or u.expires_at > now())), 'free');
  end if;
  return 'public';
end
$$;

comment on function coliseum.my_plan() is
  'The caller''s plan: public (anon), free (signed in, no paid plan), basic, pro, enterprise; '
  'null for roles that are not subject to plans (service_role, the owner).';

grant execute on function coliseum.my_plan() to anon, authenticated, service_role;
