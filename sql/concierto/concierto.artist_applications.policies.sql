alter table concierto.artist_applications enable row level security;

grant select on concierto.artist_applications to authenticated, service_role;

drop policy if exists artist_applications_artist_or_host on concierto.artist_applications;
create policy artist_applications_artist_or_host on concierto.artist_applications for select to authenticated
  using (artist_id = (select auth.uid())
         or event_id in (select e.id from concierto.events as e where e.host_id = (select auth.uid())));
