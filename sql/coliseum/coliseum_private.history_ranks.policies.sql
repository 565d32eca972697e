alter table coliseum_private.history_ranks enable row level security;

revoke all on coliseum_private.history_ranks from anon, authenticated, service_role;
