-- A JSON integer (no fraction, no exponent) in the bigint range, else null.
-- Nested CASE: the cast is only reached for numbers, even when the planner
-- folds a constant argument.
create or replace function treasury_private.json_bigint(value jsonb)
returns bigint
language sql
immutable
parallel safe
as $$
  select case when jsonb_typeof(value) = 'number' then
    case when scale(value::numeric) = 0
              and value::numeric between -9223372036854775808 and 9223372036854775807
      then value::numeric::bigint end
  end
$$;
