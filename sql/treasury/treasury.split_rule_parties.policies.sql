alter table treasury.split_rule_parties enable row level security;

grant select on treasury.split_rule_parties to authenticated, service_role;

grant insert, update, delete on treasury.split_rule_parties
  to service_role;

drop policy if exists split_rule_parties_party_reads on treasury.split_rule_parties;
create policy split_rule_parties_party_reads on treasury.split_rule_parties
  for select to authenticated using (party_id = (select auth.uid()) or (select treasury.is_admin()));
