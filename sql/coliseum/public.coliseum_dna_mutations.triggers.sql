create or replace trigger coliseum_dna_mutations_append_only
  before update or delete or truncate on public.coliseum_dna_mutations
  for each statement execute function coliseum_private.guard_mutations();

-- Statement triggers stay on the partitioned table: an UPDATE, DELETE or
-- TRUNCATE aimed at one month's partition does not fire them. Row triggers are
-- cloned onto every partition, so this one refuses changing a month's rows;
-- each partition's own TRUNCATE guard (which coliseum.rebuild() passes) comes
-- from passport_private.secure_partitions.
create or replace trigger coliseum_dna_mutations_append_only_rows
  before update or delete on public.coliseum_dna_mutations
  for each row execute function coliseum_private.guard_mutations();

alter table public.coliseum_dna_mutations enable always trigger coliseum_dna_mutations_append_only;

alter table public.coliseum_dna_mutations enable always trigger coliseum_dna_mutations_append_only_rows;
