alter table treasury.account_purposes enable row level security;

grant select on treasury.account_purposes to anon, authenticated, service_role;

drop policy if exists account_purposes_are_public on treasury.account_purposes;
create policy account_purposes_are_public on treasury.account_purposes
  for select to anon, authenticated using (true);
