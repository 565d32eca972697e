alter table public.treasury_ledger enable row level security;

-- Supabase grants the API roles everything on new tables in public.
revoke all on public.treasury_ledger from anon, authenticated, service_role;

revoke all on sequence public.treasury_ledger_id_seq from anon, authenticated, service_role;

grant select on public.treasury_ledger to authenticated, service_role;

drop policy if exists treasury_ledger_owner_reads on public.treasury_ledger;
create policy treasury_ledger_owner_reads on public.treasury_ledger
  for select to authenticated using (
    (select treasury.is_admin())
    or exists (select 1 from treasury.accounts as a where a.id = account_id and a.owner_id = (select auth.uid())));
