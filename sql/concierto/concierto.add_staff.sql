create or replace function concierto.add_staff(user_id uuid, host_id uuid default null)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  host uuid := concierto_private.staff_host(add_staff.host_id);
begin
  if add_staff.user_id is null then
    raise exception using errcode = '22023', message = 'user_id is required';
  end if;
  insert into concierto.staff (host_id, user_id) values (host, add_staff.user_id) on conflict do nothing;
end
$$;

comment on function concierto.add_staff(uuid, uuid) is
  'Lets user_id validate tickets of every event of the host (the signed-in host; service_role names host_id). '
  'Adding someone twice changes nothing.';

grant execute on function concierto.add_staff(uuid, uuid) to authenticated, service_role;
