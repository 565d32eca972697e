create or replace function companon.my_brands()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.brand_id from companon.brand_members as m where m.user_id = auth.uid()
$$;

comment on function companon.my_brands() is
  'The brands the signed-in user is a member of, whatever their role. None for anon and service_role. The row '
  'level security policies of every Companon table read it.';

-- Functions in this schema start with no grant (sql/foundation/privileges.sql).
grant execute on function companon.my_brands() to authenticated, service_role;
