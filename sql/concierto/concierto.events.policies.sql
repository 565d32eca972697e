alter table concierto.events enable row level security;

grant select on concierto.events to anon, authenticated, service_role;

-- Published and cancelled events are public; a draft is the host's, its
-- lineup's and the admins' until published (an open call is shown to all).
drop policy if exists events_are_public on concierto.events;
create policy events_are_public on concierto.events for select to anon, authenticated
  using (state <> 'draft' or takes_applications or concierto.can_see_event(id));
