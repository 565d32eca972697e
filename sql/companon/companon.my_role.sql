create or replace function companon.my_role(brand_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select m.role from companon.brand_members as m where m.brand_id = my_role.brand_id and m.user_id = auth.uid()
$$;

comment on function companon.my_role(uuid) is
  'The signed-in user''s role in the brand: owner, manager or viewer; null when they are no member.';

grant execute on function companon.my_role(uuid) to authenticated, service_role;
