alter table companon.dna_components enable row level security;

-- Reference data for building a target: public. Rows come from migrations.
grant select on companon.dna_components to anon, authenticated, service_role;

drop policy if exists dna_components_are_public on companon.dna_components;
create policy dna_components_are_public on companon.dna_components for select to anon, authenticated using (true);
