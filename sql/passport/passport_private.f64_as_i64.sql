-- An integral f64 in the i64 range as an i64, else null.
create or replace function passport_private.f64_as_i64(value double precision)
returns bigint
language sql
immutable
parallel safe
as $$
  select case
    when value = trunc(value) and value >= -9223372036854775808::double precision
         and value < 9223372036854775808::double precision
      then value::bigint
  end
$$;
