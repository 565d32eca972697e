-- A target's list of names: a JSON array of at most max_items distinct strings each matching shape (a
-- regular expression), or 22023 naming target.<path> and what it must be (must_be).
create or replace function companon_private.distinct_strings(value jsonb, path text, max_items int, shape text, must_be text)
returns jsonb
language plpgsql
immutable
as $$
begin
  if jsonb_typeof(value) is distinct from 'array' or jsonb_array_length(value) > max_items
     or exists (select 1 from jsonb_array_elements(value) as e(v)
                where jsonb_typeof(e.v) <> 'string' or (e.v #>> '{}') !~ shape)
     or (select count(distinct e.v) from jsonb_array_elements(value) as e(v)) <> jsonb_array_length(value) then
    perform companon_private.bad_target(path, format('must be an array of at most %s distinct %s', max_items, must_be));
  end if;
  return value;
end
$$;
