create or replace trigger coliseum_dna_mutations_append_only
  before update or delete or truncate on public.coliseum_dna_mutations
  for each statement execute function coliseum_private.guard_mutations();

alter table public.coliseum_dna_mutations enable always trigger coliseum_dna_mutations_append_only;
