-- Whether a present payload value fits its declared field. JSON null never fits.
create or replace function passport_private.value_fits(field_type text, field_min bigint, value jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
  select coalesce(case field_type
    when 'string' then jsonb_typeof(value) = 'string' and char_length(value #>> '{}') between 1 and 500
    when 'integer' then passport_private.json_i64(value) >= coalesce(field_min, -9223372036854775808)
    when 'number' then passport_private.json_f64(value) >= coalesce(field_min::double precision, '-infinity')
    when 'boolean' then jsonb_typeof(value) = 'boolean'
    when 'uuid' then jsonb_typeof(value) = 'string' and passport_private.is_uuid(value #>> '{}')
    when 'timestamp' then jsonb_typeof(value) = 'string' and passport_private.is_rfc3339(value #>> '{}')
    when 'currency' then jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^[A-Z]{3}$'
    when 'country' then jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^[A-Z]{2}$'
  end, false)
$$;
