alter table coliseum_private.artist_play_days enable row level security;

-- Player stats: written by the processor, read through the coliseum.* stats functions only.
revoke all on coliseum_private.artist_play_days from anon, authenticated, service_role;
