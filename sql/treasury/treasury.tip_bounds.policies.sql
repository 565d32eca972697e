alter table treasury.tip_bounds enable row level security;

grant select on treasury.tip_bounds to anon, authenticated, service_role;

grant insert, update, delete on treasury.tip_bounds to service_role;

drop policy if exists tip_bounds_are_public on treasury.tip_bounds;
create policy tip_bounds_are_public on treasury.tip_bounds
  for select to anon, authenticated using (true);
