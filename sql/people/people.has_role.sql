-- One answer to "may this user act as X" for every system: hosts creating
-- events, the app choosing what to show. Derived roles read their own source
-- of truth, so nothing has to be kept in step.
create or replace function people.has_role(role text, user_id uuid default auth.uid())
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if role is null or role not in ('fan', 'artist', 'host', 'brand', 'admin') then
    raise exception using
      errcode = '22023',
      message = format('unknown role %L', role),
      hint = 'The roles are fan, artist, host, brand and admin.';
  end if;
  if user_id is null then
    return false;
  end if;
  -- Artist and host are public facts (boards and event pages show them);
  -- brand and admin are told to the user themselves and to the platform.
  if role in ('brand', 'admin') and user_id is distinct from auth.uid()
     and not passport_private.caller_is_privileged('people.role_grants') then
    raise exception using
      errcode = '42501',
      message = format('only the user themselves may ask whether they hold the %s role', role);
  end if;
  return case role
    when 'fan' then true
    when 'brand' then exists (select 1 from companon.brand_members as m where m.user_id = has_role.user_id)
    when 'admin' then exists (select 1 from treasury.admins as a where a.user_id = has_role.user_id)
    else exists (
      select 1 from people.role_grants as g
      where g.user_id = has_role.user_id and g.role = has_role.role and g.revoked_at is null)
  end;
end
$$;

comment on function people.has_role(text, uuid) is
  'Whether a user (default: the caller) holds a role: fan (every signed-in user), artist and host (a live '
  'grant in people.role_grants), brand (a member of a Companon brand), admin (treasury.admins). False without '
  'a user; 22023 for an unknown role; 42501 when asking about another user''s brand or admin role (the '
  'platform may).';

grant execute on function people.has_role(text, uuid) to anon, authenticated, service_role;
