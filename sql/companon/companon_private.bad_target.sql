-- Raises 22023 with a message about target.<path>. Volatile, so that no planner folds a call with
-- constant arguments (which would raise while planning).
create or replace function companon_private.bad_target(path text, problem text)
returns void
language plpgsql
volatile
as $$
begin
  raise exception using
    errcode = '22023',
    message = format('target.%s %s', path, problem),
    hint = 'docs/companon.md#the-target describes a target; companon.dna_components and companon.size_bands list the names.';
end
$$;
