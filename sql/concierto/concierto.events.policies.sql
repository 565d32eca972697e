alter table concierto.events enable row level security;

grant select on concierto.events to anon, authenticated, service_role;

drop policy if exists events_are_public on concierto.events;
create policy events_are_public on concierto.events for select to anon, authenticated using (true);
