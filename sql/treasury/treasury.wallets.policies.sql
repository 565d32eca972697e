alter table treasury.wallets enable row level security;

grant select on treasury.wallets
  to authenticated, service_role;

drop policy if exists wallets_owner_reads on treasury.wallets;
create policy wallets_owner_reads on treasury.wallets
  for select to authenticated using (user_id = (select auth.uid()) or (select treasury.is_admin()));
