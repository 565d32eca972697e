alter table coliseum.fan_genres enable row level security;

grant select on coliseum.fan_genres to authenticated, service_role;

drop policy if exists fan_genres_own_rows on coliseum.fan_genres;
create policy fan_genres_own_rows on coliseum.fan_genres
  for select to authenticated using (fan_id = (select auth.uid()));
