alter table treasury.admins enable row level security;

grant select on treasury.admins to authenticated, service_role;

-- service_role manages admins and what is sold.
grant insert, update, delete on treasury.admins
  to service_role;

drop policy if exists admins_read on treasury.admins;
create policy admins_read on treasury.admins
  for select to authenticated using (user_id = (select auth.uid()) or (select treasury.is_admin()));
