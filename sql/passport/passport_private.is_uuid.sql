-- The value rules of the catalog's field types are this file and the other
-- passport_private helpers that passport_private.value_fits calls. Each mirrors
-- one arm of buckets_core::passport::validate::value_fits; their comments say
-- where JSON as serde_json reads it and JSON as jsonb stores it differ, and how
-- that is bridged.

-- `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either case. Stricter
-- than the uuid type's input, which also takes braces and missing hyphens.
create or replace function passport_private.is_uuid(value text)
returns boolean
language sql
immutable
parallel safe
as $$
  select value ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
$$;
