alter table concierto.settings enable row level security;

grant select on concierto.settings to anon, authenticated, service_role;

drop policy if exists settings_are_public on concierto.settings;
create policy settings_are_public on concierto.settings for select to anon, authenticated using (true);
