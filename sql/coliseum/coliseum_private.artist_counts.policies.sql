alter table coliseum_private.artist_counts enable row level security;

-- Player stats: written by the processor, read through the coliseum.* stats functions only.
revoke all on coliseum_private.artist_counts from anon, authenticated, service_role;
