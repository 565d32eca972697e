-- The list of ids a player read asks for: not null, at most 500 (a screen asks for about 50), or 22023
-- naming the argument.
create or replace function coliseum_private.check_id_list(ids uuid[], what text)
returns void
language plpgsql
immutable
as $$
begin
  if ids is null then
    raise exception using
      errcode = '22023',
      message = format('%s must be an array of ids, got null', what);
  end if;
  if cardinality(ids) > 500 then
    raise exception using
      errcode = '22023',
      message = format('%s holds %s ids; ask for 500 or fewer at once', what, cardinality(ids)),
      hint = 'Split the list into pages of at most 500 ids.';
  end if;
end
$$;
