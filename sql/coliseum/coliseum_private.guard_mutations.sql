-- Append-only below every role, like passport_entries. coliseum.rebuild()
-- marks its transaction so that its TRUNCATE passes.
create or replace function coliseum_private.guard_mutations()
returns trigger
language plpgsql
as $$
begin
  if tg_op = 'TRUNCATE'
     and current_setting('buckets.coliseum_rebuild', true) = txid_current()::text then
    return null;
  end if;
  raise exception using
    errcode = '42501',
    message = format('coliseum_dna_mutations is append-only: %s is refused', tg_op),
    hint = 'Mutations are derived from the Passport log; coliseum.rebuild() recomputes them all.';
end
$$;
