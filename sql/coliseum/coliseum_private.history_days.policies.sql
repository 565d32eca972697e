alter table coliseum_private.history_days enable row level security;

revoke all on coliseum_private.history_days from anon, authenticated, service_role;
