alter table coliseum_private.artist_fans enable row level security;

revoke all on coliseum_private.artist_fans from anon, authenticated, service_role;
