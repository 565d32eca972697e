alter table concierto.event_rsvp enable row level security;

grant select on concierto.event_rsvp to authenticated, service_role;

-- A user reads their own RSVPs; the host reads the counts (concierto.host_stats).
drop policy if exists event_rsvp_own on concierto.event_rsvp;
create policy event_rsvp_own on concierto.event_rsvp for select to authenticated
  using (user_id = (select auth.uid()));
