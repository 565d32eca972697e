-- Gives user the role (artist or host) unless they hold it: a people.role_grants row, its Passport event
-- (people.role_granted) and a role.changed notification, in the caller's transaction. Returns the live
-- grant and whether it is new.
create or replace function people_private.grant_role(
  user_id uuid, role text, actor uuid, reason text, request_id bigint, out grant_row people.role_grants,
  out created boolean)
language plpgsql
volatile
as $$
#variable_conflict use_column
begin
  insert into people.role_grants as g (user_id, role, granted_by, reason)
  values (grant_role.user_id, grant_role.role, actor, grant_role.reason)
  on conflict (user_id, role) where revoked_at is null do nothing
  returning * into grant_row;
  created := found;
  if not created then
    select * into grant_row from people.role_grants as g
    where g.user_id = grant_role.user_id and g.role = grant_role.role and g.revoked_at is null;
    return;
  end if;
  perform passport.log(grant_row.user_id, 'people.role_granted', 'people:role_grant:' || grant_row.id || ':granted',
    jsonb_strip_nulls(jsonb_build_object('role', grant_row.role, 'grant_id', grant_row.id, 'request_id', grant_role.request_id,
                                         'actor_id', actor, 'reason', grant_row.reason)), null, now(), 'system');
  perform people_private.notify(grant_row.user_id, 'role.changed',
    format('You are now %s on Buckets', case grant_row.role when 'artist' then 'an artist' else 'a host' end),
    grant_row.reason,
    jsonb_strip_nulls(jsonb_build_object('role', grant_row.role, 'change', 'granted', 'grant_id', grant_row.id,
                                         'request_id', grant_role.request_id)),
    'role_grant:' || grant_row.id || ':granted');
end
$$;
