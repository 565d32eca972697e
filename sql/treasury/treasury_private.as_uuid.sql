-- A uuid written as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, else null.
create or replace function treasury_private.as_uuid(value text)
returns uuid
language sql
immutable
parallel safe
as $$
  select case when value ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
    then value::uuid end
$$;
