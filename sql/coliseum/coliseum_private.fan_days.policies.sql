alter table coliseum_private.fan_days enable row level security;

revoke all on coliseum_private.fan_days from anon, authenticated, service_role;
