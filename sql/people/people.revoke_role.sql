-- An admin or the platform takes a granted role back. The grant row stays, with who and why.
create or replace function people.revoke_role(user_id uuid, role text, reason text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  actor uuid := people_private.reviewer('revoke roles');
  g people.role_grants;
begin
  perform people_private.check_grantable(role);
  if char_length(reason) > 500 then
    raise exception using errcode = '22023', message = 'reason must be at most 500 characters';
  end if;
  update people.role_grants as x
  set revoked_at = now(), revoked_by = actor, revoke_reason = nullif(btrim(revoke_role.reason), '')
  where x.user_id = revoke_role.user_id and x.role = revoke_role.role and x.revoked_at is null
  returning * into g;
  if not found then
    raise exception using errcode = 'P0002',
      message = format('user %s does not hold the %s role', coalesce(revoke_role.user_id::text, 'null'), role);
  end if;
  perform passport.log(g.user_id, 'people.role_revoked', 'people:role_grant:' || g.id || ':revoked',
    jsonb_strip_nulls(jsonb_build_object('role', g.role, 'grant_id', g.id, 'actor_id', actor,
                                         'reason', g.revoke_reason)), null, now(), 'system');
  perform people_private.notify(g.user_id, 'role.changed', format('Your %s role was revoked', g.role),
    g.revoke_reason, jsonb_build_object('role', g.role, 'change', 'revoked', 'grant_id', g.id),
    'role_grant:' || g.id || ':revoked');
  return jsonb_build_object('grant_id', g.id, 'user_id', g.user_id, 'role', g.role, 'revoked_at', g.revoked_at);
end
$$;

comment on function people.revoke_role(uuid, text, text) is
  'Admins and service_role: take back a user''s artist or host role (reason up to 500 characters, told to the '
  'user). Returns {grant_id, user_id, role, revoked_at}. Logs people.role_revoked, notifies role.changed. 42501 '
  'for others; P0002 when the user does not hold it; 22023 unknown or derived role.';

grant execute on function people.revoke_role(uuid, text, text) to authenticated, service_role;
