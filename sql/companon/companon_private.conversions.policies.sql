alter table companon_private.conversions enable row level security;

revoke all on companon_private.conversions from anon, authenticated, service_role;
