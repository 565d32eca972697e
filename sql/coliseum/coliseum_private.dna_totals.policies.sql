alter table coliseum_private.dna_totals enable row level security;

revoke all on coliseum_private.dna_totals from anon, authenticated, service_role;
