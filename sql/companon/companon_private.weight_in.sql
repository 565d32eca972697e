-- A JSON number between 0 and hi, as double precision; otherwise 22023 naming target.<path>.
create or replace function companon_private.weight_in(value jsonb, path text, hi int)
returns double precision
language plpgsql
immutable
as $$
begin
  if jsonb_typeof(value) is distinct from 'number' or value::numeric not between 0 and hi then
    perform companon_private.bad_target(path, format('must be a number from 0 to %s', hi));
  end if;
  return value::double precision;
end
$$;
