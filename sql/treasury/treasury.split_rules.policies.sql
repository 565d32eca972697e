alter table treasury.split_rules enable row level security;

grant select on treasury.split_rules to authenticated, service_role;

grant insert, update, delete on treasury.split_rules
  to service_role;

drop policy if exists split_rules_admin_reads on treasury.split_rules;
create policy split_rules_admin_reads on treasury.split_rules
  for select to authenticated using ((select treasury.is_admin()));
