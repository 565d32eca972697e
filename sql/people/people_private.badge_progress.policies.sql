alter table people_private.badge_progress enable row level security;

revoke all on people_private.badge_progress from anon, authenticated, service_role;
