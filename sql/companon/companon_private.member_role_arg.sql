-- A role argument of the member functions, or 22023.
create or replace function companon_private.member_role_arg(role text)
returns text
language plpgsql
immutable
as $$
begin
  if role is null or role not in ('owner', 'manager', 'viewer') then
    raise exception using errcode = '22023', message = 'role must be owner, manager or viewer';
  end if;
  return role;
end
$$;
