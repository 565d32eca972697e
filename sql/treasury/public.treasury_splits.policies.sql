alter table public.treasury_splits enable row level security;

revoke all on public.treasury_splits from anon, authenticated, service_role;

revoke all on sequence public.treasury_splits_id_seq from anon, authenticated, service_role;

grant select on public.treasury_splits to authenticated, service_role;

drop policy if exists treasury_splits_party_reads on public.treasury_splits;
create policy treasury_splits_party_reads on public.treasury_splits
  for select to authenticated using (party_id = (select auth.uid()) or (select treasury.is_admin()));
