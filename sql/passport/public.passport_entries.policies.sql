-- Supabase grants every API role ALL on new tables in public. The log is
-- written only through passport.ingest and passport.log (security definer),
-- so the API roles keep SELECT at most, under RLS. These grants and the
-- policy are checked on this (partitioned) table for every read through it;
-- the monthly partitions themselves have no grant for the API roles and RLS
-- without a policy (passport_private.secure_partitions).
revoke all on public.passport_entries from anon, authenticated, service_role;

revoke all on sequence public.passport_entries_id_seq from anon, authenticated, service_role;

grant select on public.passport_entries to authenticated, service_role;

alter table public.passport_entries enable row level security;

drop policy if exists passport_entries_owner_reads on public.passport_entries;
create policy passport_entries_owner_reads on public.passport_entries
  for select to authenticated
  using (user_id = (select auth.uid()));
