-- What a valid value of a field looks like, as rejection messages say it
-- (FieldType::expectation in catalog.rs).
create or replace function passport_private.expectation(field_type text, field_min bigint)
returns text
language sql
immutable
parallel safe
as $$
  select case field_type
    when 'string' then 'a string of 1 to 500 characters'
    when 'integer' then 'an integer' || coalesce(' >= ' || field_min, '')
    when 'number' then 'a number' || coalesce(' >= ' || field_min, '')
    when 'boolean' then 'true or false'
    when 'uuid' then 'a UUID'
    when 'timestamp' then 'an RFC 3339 timestamp'
    when 'currency' then 'an ISO 4217 currency code (3 capital letters)'
    when 'country' then 'an ISO 3166-1 alpha-2 country code (2 capital letters)'
  end
$$;
