create or replace function concierto.remove_staff(user_id uuid, host_id uuid default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  host uuid := concierto_private.staff_host(remove_staff.host_id);
begin
  delete from concierto.staff as s where s.host_id = host and s.user_id = remove_staff.user_id;
  return found;
end
$$;

comment on function concierto.remove_staff(uuid, uuid) is
  'Takes user_id off the host''s door staff; returns whether they were on it.';

grant execute on function concierto.remove_staff(uuid, uuid) to authenticated, service_role;
