alter table passport_private.address_buckets enable row level security;

revoke all on passport_private.address_buckets from anon, authenticated, service_role;
