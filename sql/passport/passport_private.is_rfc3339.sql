create or replace function passport_private.is_rfc3339(value text)
returns boolean
language sql
immutable
parallel safe
as $$
  select passport_private.parse_rfc3339(value) is not null
$$;
