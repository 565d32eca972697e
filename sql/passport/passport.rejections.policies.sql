alter table passport.rejections enable row level security;

revoke all on passport.rejections from anon, authenticated, service_role;

revoke all on sequence passport.rejections_id_seq from anon, authenticated, service_role;

grant select on passport.rejections to service_role;
