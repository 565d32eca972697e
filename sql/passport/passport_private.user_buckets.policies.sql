alter table passport_private.user_buckets enable row level security;

revoke all on passport_private.user_buckets from anon, authenticated, service_role;
