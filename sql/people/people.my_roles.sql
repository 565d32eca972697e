-- The signed-in user's roles, each with since when and where it comes from.
create or replace function people.my_roles()
returns table (role text, since timestamptz, source text)
language sql
stable
security definer
set search_path = ''
as $$
  select 'fan', (select u.created_at from auth.users as u where u.id = auth.uid()), 'signed in'
  where auth.uid() is not null
  union all
  select g.role, g.granted_at, 'people.role_grants'
  from people.role_grants as g
  where g.user_id = auth.uid() and g.revoked_at is null
  union all
  select 'brand', min(m.added_at), 'companon.brand_members'
  from companon.brand_members as m
  where m.user_id = auth.uid()
  having count(*) > 0
  union all
  select 'admin', a.granted_at, 'treasury.admins'
  from treasury.admins as a
  where a.user_id = auth.uid()
$$;

comment on function people.my_roles() is
  'The signed-in user''s roles (fan, artist, host, brand, admin), each with since and source (signed in, '
  'people.role_grants, companon.brand_members, treasury.admins). No rows without a signed-in user.';

grant execute on function people.my_roles() to authenticated;
