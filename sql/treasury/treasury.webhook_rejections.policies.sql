alter table treasury.webhook_rejections enable row level security;

grant select on treasury.webhook_rejections to authenticated, service_role;

drop policy if exists webhook_rejections_admin_reads on treasury.webhook_rejections;
create policy webhook_rejections_admin_reads on treasury.webhook_rejections
  for select to authenticated using ((select treasury.is_admin()));
