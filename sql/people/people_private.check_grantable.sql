-- The roles that are granted through people.role_grants; the others say where they come from.
create or replace function people_private.check_grantable(role text)
returns void
language plpgsql
immutable
as $$
begin
  if role is null or role not in ('fan', 'artist', 'host', 'brand', 'admin') then
    raise exception using errcode = '22023', message = format('unknown role %L', role),
      hint = 'The roles are fan, artist, host, brand and admin; only artist and host are requested and granted.';
  end if;
  if role not in ('artist', 'host') then
    raise exception using errcode = '22023',
      message = format('the %s role is not granted here', role),
      hint = case role
        when 'fan' then 'Every signed-in user is a fan.'
        when 'brand' then 'A brand member is added by companon.add_brand_member.'
        else 'Admins are the rows of treasury.admins.' end;
  end if;
end
$$;
