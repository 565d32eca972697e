alter table companon.size_bands enable row level security;

-- Reference data for building a target: public. Rows come from migrations.
grant select on companon.size_bands to anon, authenticated, service_role;

drop policy if exists size_bands_are_public on companon.size_bands;
create policy size_bands_are_public on companon.size_bands for select to anon, authenticated using (true);
