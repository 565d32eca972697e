alter table passport.rejection_tallies enable row level security;

revoke all on passport.rejection_tallies from anon, authenticated, service_role;

grant select on passport.rejection_tallies to service_role;
