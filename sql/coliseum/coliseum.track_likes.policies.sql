alter table coliseum.track_likes enable row level security;

-- A fan reads their own likes; the processor alone writes them (from audio.like / audio.unlike).
revoke all on coliseum.track_likes from anon, authenticated, service_role;
grant select on coliseum.track_likes to authenticated, service_role;

drop policy if exists track_likes_own_rows on coliseum.track_likes;
create policy track_likes_own_rows on coliseum.track_likes
  for select to authenticated using (fan_id = (select auth.uid()));
