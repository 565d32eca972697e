alter table public.event_tickets enable row level security;

-- Supabase grants the API roles everything on new tables in public.
revoke all on public.event_tickets from anon, authenticated, service_role;

grant select on public.event_tickets to authenticated, service_role;

-- The events the caller works: hosted, or of a host whose staff they are
-- (the staff rows naming them are visible to them).
drop policy if exists event_tickets_owner_or_staff_reads on public.event_tickets;
create policy event_tickets_owner_or_staff_reads on public.event_tickets
  for select to authenticated using (
    owner_id = (select auth.uid())
    or event_id in (select e.id from concierto.events as e
                    where e.host_id = (select auth.uid())
                       or e.host_id in (select s.host_id from concierto.staff as s where s.user_id = (select auth.uid()))));
