alter table coliseum_private.artist_refreshes enable row level security;

revoke all on coliseum_private.artist_refreshes from anon, authenticated, service_role;
