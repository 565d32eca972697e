create or replace function companon.remove_member(brand_id uuid, user_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  current text;
begin
  perform companon_private.lock_members(remove_member.brand_id, leaving => remove_member.user_id);
  select m.role into current from companon.brand_members as m
  where m.brand_id = remove_member.brand_id and m.user_id = remove_member.user_id;
  if current is null then
    return false;
  end if;
  if current = 'owner' then
    perform companon_private.refuse_last_owner(remove_member.brand_id, remove_member.user_id);
  end if;
  delete from companon.brand_members as m where m.brand_id = remove_member.brand_id and m.user_id = remove_member.user_id;
  return true;
end
$$;

comment on function companon.remove_member(uuid, uuid) is
  'Takes user_id off the brand: an owner (or the platform) removes anyone, every member may remove themselves '
  '(leave). Returns whether they were a member. 55000 last_owner for the brand''s only owner.';

grant execute on function companon.remove_member(uuid, uuid) to authenticated, service_role;
