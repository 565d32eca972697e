alter table coliseum_private.refresh_backlog enable row level security;

revoke all on coliseum_private.refresh_backlog from anon, authenticated, service_role;
