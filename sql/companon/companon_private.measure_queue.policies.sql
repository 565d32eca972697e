alter table companon_private.measure_queue enable row level security;

revoke all on companon_private.measure_queue from anon, authenticated, service_role;
