alter table concierto.event_artists enable row level security;

grant select on concierto.event_artists to anon, authenticated, service_role;

drop policy if exists event_artists_are_public on concierto.event_artists;
create policy event_artists_are_public on concierto.event_artists for select to anon, authenticated
  using (concierto.can_see_event(event_id));
