alter table coliseum_private.artist_places enable row level security;

revoke all on coliseum_private.artist_places from anon, authenticated, service_role;
