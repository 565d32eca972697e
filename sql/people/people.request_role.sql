-- The signed-in user asks for the artist or host role; an admin answers (people.review_role_request).
-- Asking again while a request is open returns that request.
create or replace function people.request_role(role text, reason text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  me uuid := concierto_private.signed_in('ask for a role');
  r people.role_requests;
  created boolean := false;
begin
  perform people_private.check_grantable(role);
  if char_length(reason) > 500 then
    raise exception using errcode = '22023', message = 'reason must be at most 500 characters';
  end if;
  if people.has_role(role, me) then
    raise exception using errcode = '55000', message = format('you hold the %s role already', role);
  end if;
  insert into people.role_requests as q (user_id, role, reason)
  values (me, request_role.role, nullif(btrim(request_role.reason), ''))
  on conflict (user_id, role) where status = 'pending' do nothing
  returning * into r;
  if found then
    created := true;
    perform passport.log(me, 'people.role_requested', 'people:role_request:' || r.id,
      jsonb_strip_nulls(jsonb_build_object('role', r.role, 'request_id', r.id, 'reason', r.reason)),
      null, now(), 'system');
  else
    select * into r from people.role_requests as q
    where q.user_id = me and q.role = request_role.role and q.status = 'pending';
  end if;
  return jsonb_build_object('request_id', r.id, 'role', r.role, 'status', r.status, 'reason', r.reason,
                            'requested_at', r.requested_at, 'created', created);
end
$$;

comment on function people.request_role(text, text) is
  'The signed-in user asks for the artist or host role (reason up to 500 characters); an admin reviews it. '
  'Returns {request_id, role, status, reason, requested_at, created}; the open request when one exists '
  '(created false). Logs people.role_requested. 22023 for another role; 55000 when the user holds it already; '
  '42501 without a signed-in user.';

grant execute on function people.request_role(text, text) to authenticated;
