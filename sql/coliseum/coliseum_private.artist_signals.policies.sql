alter table coliseum_private.artist_signals enable row level security;

revoke all on coliseum_private.artist_signals from anon, authenticated, service_role;
