-- An admin or the platform gives a user the artist or host role without a request (the platform when an
-- artist publishes their first release, an admin onboarding a venue). An open request of the user for it
-- is approved with the grant. Granting a role the user holds returns the live grant.
create or replace function people.grant_role(user_id uuid, role text, reason text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  actor uuid := people_private.reviewer('grant roles');
  g record;
begin
  perform people_private.check_grantable(role);
  if user_id is null then
    raise exception using errcode = '22023', message = 'user_id is required';
  end if;
  if char_length(reason) > 500 then
    raise exception using errcode = '22023', message = 'reason must be at most 500 characters';
  end if;
  select * into g from people_private.grant_role(grant_role.user_id, grant_role.role, actor, nullif(btrim(reason), ''),
    (select q.id from people.role_requests as q
     where q.user_id = grant_role.user_id and q.role = grant_role.role and q.status = 'pending'));
  update people.role_requests as q
  set status = 'approved', reviewed_at = now(), reviewed_by = actor, grant_id = (g.grant_row).id
  where q.user_id = grant_role.user_id and q.role = grant_role.role and q.status = 'pending';
  return jsonb_build_object('grant_id', (g.grant_row).id, 'user_id', (g.grant_row).user_id,
                            'role', (g.grant_row).role, 'granted_at', (g.grant_row).granted_at, 'created', g.created);
end
$$;

comment on function people.grant_role(uuid, text, text) is
  'Admins and service_role: give a user the artist or host role (reason up to 500 characters); approves their '
  'open request for it. Returns {grant_id, user_id, role, granted_at, created} (created false: they held it). '
  'Logs people.role_granted and notifies role.changed. 42501 for others; 22023 unknown or derived role, no user.';

grant execute on function people.grant_role(uuid, text, text) to authenticated, service_role;
