create or replace function companon.create_brand(name text, owner_id uuid default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  owner uuid;
  new_id uuid;
begin
  if companon_private.caller_is_privileged() then
    if owner_id is null then
      raise exception using errcode = '22023', message = 'owner_id is required when the platform creates a brand';
    end if;
    owner := owner_id;
    me := null;
  elsif me is null then
    raise exception using errcode = '42501', message = 'sign in to create a brand',
      hint = 'Call with a user''s access token.';
  elsif owner_id is not null and owner_id <> me then
    raise exception using errcode = '42501', message = 'the creator of a brand is its first owner',
      hint = 'Leave owner_id null; add other owners with add_member.';
  else
    owner := me;
  end if;
  if create_brand.name is null or char_length(btrim(create_brand.name)) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'name must be a string of 1 to 200 characters';
  end if;

  insert into companon.brands as b (name, created_by) values (btrim(create_brand.name), owner)
  returning b.id into new_id;
  insert into companon.brand_members (brand_id, user_id, role, added_by) values (new_id, owner, 'owner', me);
  return new_id;
end
$$;

comment on function companon.create_brand(text, uuid) is
  'Creates a brand; the signed-in caller becomes its owner (owner_id null or their own id). The platform '
  '(service_role) names the owner in owner_id. Returns the brand''s id. 22023 names a bad argument.';

grant execute on function companon.create_brand(text, uuid) to authenticated, service_role;
