alter table treasury.accounts enable row level security;

grant select on treasury.accounts to authenticated, service_role;

drop policy if exists accounts_owner_reads on treasury.accounts;
create policy accounts_owner_reads on treasury.accounts
  for select to authenticated using (owner_id = (select auth.uid()) or (select treasury.is_admin()));
