alter table coliseum.fan_tracks enable row level security;

-- A fan reads their own history; the processor alone writes it (from audio.play).
revoke all on coliseum.fan_tracks from anon, authenticated, service_role;
grant select on coliseum.fan_tracks to authenticated, service_role;

drop policy if exists fan_tracks_own_rows on coliseum.fan_tracks;
create policy fan_tracks_own_rows on coliseum.fan_tracks
  for select to authenticated using (fan_id = (select auth.uid()));
