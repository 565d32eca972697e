create or replace function passport_private.fields_are_valid(fields jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(fields) is distinct from 'array' then false
    else (select count(distinct f ->> 'name') = count(*)
                 and coalesce(bool_and(passport_private.field_is_valid(f)), true)
          from jsonb_array_elements(fields) as f)
  end
$$;
