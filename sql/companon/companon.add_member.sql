create or replace function companon.add_member(brand_id uuid, user_id uuid, role text default 'viewer')
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  current text;
begin
  perform companon_private.lock_members(add_member.brand_id);
  if add_member.user_id is null then
    raise exception using errcode = '22023', message = 'user_id is required';
  end if;
  perform companon_private.member_role_arg(add_member.role);
  select m.role into current from companon.brand_members as m
  where m.brand_id = add_member.brand_id and m.user_id = add_member.user_id;
  if current = add_member.role then
    return false;
  elsif current is not null then
    raise exception using
      errcode = '23505',
      message = format('user %s is already a %s of brand %s', add_member.user_id, current, add_member.brand_id),
      detail = 'already_member',
      hint = 'Change a member''s role with set_member_role.';
  end if;
  insert into companon.brand_members (brand_id, user_id, role, added_by)
  values (add_member.brand_id, add_member.user_id, add_member.role, auth.uid());
  return true;
end
$$;

comment on function companon.add_member(uuid, uuid, text) is
  'Makes user_id a member of the brand with the role (owner, manager or viewer; default viewer). For the brand''s '
  'owners and the platform. Returns false when they are a member with that role already; 23505 already_member '
  'when with another role (use set_member_role).';

grant execute on function companon.add_member(uuid, uuid, text) to authenticated, service_role;
