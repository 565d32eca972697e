alter table passport.alias_use enable row level security;

revoke all on passport.alias_use from anon, authenticated, service_role;

grant select on passport.alias_use to service_role;
