alter table coliseum_private.attendances enable row level security;

-- Player stats: written by the processor, read through the coliseum.* stats functions only.
revoke all on coliseum_private.attendances from anon, authenticated, service_role;
