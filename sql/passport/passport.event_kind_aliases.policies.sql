alter table passport.event_kind_aliases enable row level security;

drop policy if exists event_kind_aliases_are_public on passport.event_kind_aliases;
create policy event_kind_aliases_are_public on passport.event_kind_aliases
  for select to anon, authenticated, service_role
  using (true);

grant select on passport.event_kind_aliases to anon, authenticated, service_role;
