-- A JSON number as the f64 serde_json makes of it, or null when it is not a
-- number or beyond the f64 range. Postgres' own conversion rounds correctly
-- but raises an error on overflow and on underflow to zero, so both ends are
-- decided here: at least DBL_MAX + half an ulp is infinite (not a number for
-- serde_json), at most half the smallest subnormal (2^-1075) is zero.
create or replace function passport_private.json_f64(value jsonb)
returns double precision
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(value) is distinct from 'number' then null
    when abs(value::numeric) >= 2::numeric ^ 1024 - 2::numeric ^ 970 then null
    when abs(value::numeric) * 2::numeric ^ 1075 <= 1 then 0
    else value::numeric::double precision
  end
$$;
