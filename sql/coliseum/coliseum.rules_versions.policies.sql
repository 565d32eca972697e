alter table coliseum.rules_versions enable row level security;

-- Reference data: public.
grant select on coliseum.rules_versions to anon, authenticated, service_role;

drop policy if exists rules_versions_are_public on coliseum.rules_versions;
create policy rules_versions_are_public on coliseum.rules_versions
  for select to anon, authenticated, service_role using (true);
