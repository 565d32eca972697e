alter table coliseum_private.dna_hours enable row level security;

revoke all on coliseum_private.dna_hours from anon, authenticated, service_role;
