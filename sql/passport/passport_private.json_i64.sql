-- A JSON number as an integer the way validate.rs's integer_value reads it:
-- an integer literal in the i64 range is exact; anything else (a fraction, an
-- exponent, a literal beyond i64) goes through f64 and counts only when the
-- f64 is integral and within i64. jsonb keeps the scale of a literal, so
-- `5` and `5.0` stay apart; a positive literal beyond i64 always lands at or
-- above 2^63 in f64 and is refused, as serde_json's u64 case is.
create or replace function passport_private.json_i64(value jsonb)
returns bigint
language sql
immutable
parallel safe
as $$
  select case
    when jsonb_typeof(value) is distinct from 'number' then null
    when scale(value::numeric) = 0
         and value::numeric between -9223372036854775808 and 9223372036854775807
      then value::numeric::bigint
    else passport_private.f64_as_i64(passport_private.json_f64(value))
  end
$$;
