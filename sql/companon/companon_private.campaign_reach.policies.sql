alter table companon_private.campaign_reach enable row level security;

revoke all on companon_private.campaign_reach from anon, authenticated, service_role;
