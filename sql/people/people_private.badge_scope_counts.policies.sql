alter table people_private.badge_scope_counts enable row level security;

revoke all on people_private.badge_scope_counts from anon, authenticated, service_role;
