-- The shape check_event relies on: an array of distinct field objects, each
-- {"name": text, "type": one of the eight types, "required": bool, "min": int|null},
-- with a min only on integer and number fields.
create or replace function passport_private.field_is_valid(field jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(field) is distinct from 'object' then false
    when not field ?& array['name', 'type', 'required'] then false
    when exists (select from jsonb_object_keys(field) as k where k not in ('name', 'type', 'required', 'min')) then false
    when jsonb_typeof(field -> 'name') <> 'string' or field ->> 'name' = '' then false
    when field ->> 'type' not in ('string', 'integer', 'number', 'boolean', 'uuid', 'timestamp', 'currency', 'country') then false
    when jsonb_typeof(field -> 'required') <> 'boolean' then false
    when coalesce(jsonb_typeof(field -> 'min'), 'null') = 'null' then true
    when jsonb_typeof(field -> 'min') <> 'number' or field ->> 'type' not in ('integer', 'number') then false
    else scale((field -> 'min')::numeric) = 0
         and (field -> 'min')::numeric between -9223372036854775808 and 9223372036854775807
  end
$$;
