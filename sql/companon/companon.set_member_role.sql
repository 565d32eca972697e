create or replace function companon.set_member_role(brand_id uuid, user_id uuid, role text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  current text;
begin
  perform companon_private.lock_members(set_member_role.brand_id);
  perform companon_private.member_role_arg(set_member_role.role);
  select m.role into current from companon.brand_members as m
  where m.brand_id = set_member_role.brand_id and m.user_id = set_member_role.user_id;
  if current is null then
    raise exception using
      errcode = 'P0002',
      message = format('user %s is not a member of brand %s', set_member_role.user_id, set_member_role.brand_id),
      hint = 'Add them with add_member.';
  end if;
  if current = 'owner' and set_member_role.role <> 'owner' then
    perform companon_private.refuse_last_owner(set_member_role.brand_id, set_member_role.user_id);
  end if;
  update companon.brand_members as m set role = set_member_role.role, role_changed_at = now()
  where m.brand_id = set_member_role.brand_id and m.user_id = set_member_role.user_id
    and m.role <> set_member_role.role;
  return current;
end
$$;

comment on function companon.set_member_role(uuid, uuid, text) is
  'Gives a member of the brand another role (owner, manager or viewer); returns the role they had. For the '
  'brand''s owners and the platform. P0002 when user_id is no member; 55000 last_owner when it would leave the '
  'brand without an owner.';

grant execute on function companon.set_member_role(uuid, uuid, text) to authenticated, service_role;
