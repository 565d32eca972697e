alter table passport.limits enable row level security;

revoke all on passport.limits from anon, authenticated, service_role;

-- Operators read and change the limits; the one row is never inserted nor deleted.
grant select, update on passport.limits to service_role;
