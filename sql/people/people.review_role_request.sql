-- An admin (or the platform) answers an open role request: approve grants the role, else it is declined.
-- Either way the user is told (role.changed) and Passport logs it.
create or replace function people.review_role_request(request_id bigint, approve boolean, note text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  actor uuid := people_private.reviewer('review role requests');
  r people.role_requests;
  g record;
begin
  if approve is null then
    raise exception using errcode = '22023', message = 'approve is required (true or false)';
  end if;
  if char_length(note) > 500 then
    raise exception using errcode = '22023', message = 'note must be at most 500 characters';
  end if;
  select * into r from people.role_requests as q where q.id = review_role_request.request_id for update;
  if not found then
    raise exception using errcode = 'P0002',
      message = format('role request %s not found', coalesce(review_role_request.request_id::text, 'null'));
  end if;
  if r.status <> 'pending' then
    raise exception using errcode = '55000', message = format('role request %s is %s already', r.id, r.status);
  end if;
  if r.user_id = actor then
    raise exception using errcode = '42501', message = 'an admin may not review their own role request';
  end if;
  note := nullif(btrim(note), '');
  if approve then
    select * into g from people_private.grant_role(r.user_id, r.role, actor, coalesce(note, r.reason), r.id);
    update people.role_requests as q
    set status = 'approved', reviewed_at = now(), reviewed_by = actor, review_note = note, grant_id = (g.grant_row).id
    where q.id = r.id
    returning * into r;
  else
    update people.role_requests as q
    set status = 'declined', reviewed_at = now(), reviewed_by = actor, review_note = note
    where q.id = r.id
    returning * into r;
    perform passport.log(r.user_id, 'people.role_request_declined', 'people:role_request:' || r.id || ':declined',
      jsonb_strip_nulls(jsonb_build_object('role', r.role, 'request_id', r.id, 'actor_id', actor, 'reason', note)),
      null, now(), 'system');
    perform people_private.notify(r.user_id, 'role.changed',
      format('Your request for the %s role was declined', r.role), note,
      jsonb_build_object('role', r.role, 'change', 'declined', 'request_id', r.id),
      'role_request:' || r.id || ':declined');
  end if;
  return jsonb_build_object('request_id', r.id, 'user_id', r.user_id, 'role', r.role, 'status', r.status,
                            'grant_id', r.grant_id, 'reviewed_at', r.reviewed_at);
end
$$;

comment on function people.review_role_request(bigint, boolean, text) is
  'Admins (treasury.admins) and service_role: approve (grants the role) or decline an open request, with an '
  'optional note (up to 500 characters) the user is told. Returns {request_id, user_id, role, status, '
  'grant_id, reviewed_at}. 42501 for others and for an admin''s own request; P0002 unknown request; 55000 '
  'not pending; 22023 approve missing.';

grant execute on function people.review_role_request(bigint, boolean, text) to authenticated, service_role;
