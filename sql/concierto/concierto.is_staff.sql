create or replace function concierto.is_staff(event_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select concierto_private.is_staff_of(e.host_id, auth.uid())
                   from concierto.events as e where e.id = is_staff.event_id), false)
$$;

comment on function concierto.is_staff(uuid) is
  'Whether the signed-in user may validate tickets of the event: its host or the host''s staff. False for anon, '
  'service_role and unknown events.';

grant execute on function concierto.is_staff(uuid) to anon, authenticated, service_role;
