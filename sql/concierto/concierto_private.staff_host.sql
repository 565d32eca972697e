-- The host a staff change is for: the signed-in host, or any host for
-- privileged callers, who must name it.
create or replace function concierto_private.staff_host(host_id uuid)
returns uuid
language plpgsql
stable
as $$
declare
  me uuid := auth.uid();
begin
  if host_id is null and me is not null then
    return me;
  end if;
  if host_id is not null and (host_id = me or concierto_private.caller_is_privileged()) then
    return host_id;
  end if;
  if host_id is null and concierto_private.caller_is_privileged() then
    raise exception using errcode = '22023', message = 'host_id is required when the caller is not a signed-in host';
  end if;
  raise exception using
    errcode = '42501',
    message = 'a host manages only their own staff',
    hint = 'Leave host_id null to manage yours.';
end
$$;
