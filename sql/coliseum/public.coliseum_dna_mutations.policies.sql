-- Checked on this (partitioned) table for every read through it; the monthly
-- partitions have no grant for the API roles and RLS without a policy
-- (passport_private.secure_partitions).
alter table public.coliseum_dna_mutations enable row level security;

revoke all on public.coliseum_dna_mutations
  from anon, authenticated, service_role;

revoke all on sequence public.coliseum_dna_mutations_id_seq from anon, authenticated, service_role;

-- An artist reads the mutations made for them.
grant select on public.coliseum_dna_mutations to authenticated, service_role;

drop policy if exists mutations_artist_reads on public.coliseum_dna_mutations;
create policy mutations_artist_reads on public.coliseum_dna_mutations
  for select to authenticated using (artist_id = (select auth.uid()));
