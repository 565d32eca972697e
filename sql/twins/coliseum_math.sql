-- SQL twins of pg_coliseum's math (pg_coliseum/src/lib.rs, buckets_core/src/coliseum/weight.rs).
-- Same names, argument names and types, results, volatility, strictness and errors as the
-- extension; the results are bit-identical float8 values (see docs/coliseum-math.md).
--
-- Installed into schema coliseum by the generated migration when the extension is unavailable,
-- executed there as one string inside a DO block: plain SQL only, $fn$ quotes only.
--
-- The checks need RAISE, so the checked functions are plpgsql (a SQL function with a CASE
-- cannot be inlined when strict, and an un-inlined SQL function costs several times more
-- per call than plpgsql). event_weight is a strict SQL product of the two: it is inlined,
-- and since Postgres evaluates operands left to right the tier is checked first, as in Rust.

create or replace function coliseum.tier_multiplier(tier smallint)
returns double precision
language plpgsql immutable strict parallel safe
as $fn$
begin
  if tier between 1 and 5 then
    return ('{0.1,1,10,100,1000}'::double precision[])[tier];
  end if;
  raise exception using errcode = '22023', message = 'tier must be between 1 and 5, got ' || tier;
end
$fn$;

comment on function coliseum.tier_multiplier(smallint) is
  'The weight multiplier of a tier level (1..5): 0.1, 1, 10, 100 or 1000. SQL twin of pg_coliseum.';

-- age_s = as_of - occurred_at in seconds, taken from the exact numeric epochs so that the one
-- rounding is the cast to float8, as in Rust's `age_micros as f64 / 1e6` (exact below 285 years,
-- where the floor applies anyway); then max(0.1, 1 - max(age_s, 0) / 2592000).
create or replace function coliseum.recency_decay(occurred_at timestamptz, as_of timestamptz)
returns double precision
language plpgsql immutable strict parallel safe
as $fn$
begin
  if not isfinite(occurred_at) then
    raise exception using errcode = '22008', message = 'occurred_at must be a finite timestamp, got ' || occurred_at;
  end if;
  if not isfinite(as_of) then
    raise exception using errcode = '22008', message = 'as_of must be a finite timestamp, got ' || as_of;
  end if;
  return greatest(
    0.1::double precision,
    1::double precision
      - greatest(extract(epoch from as_of) - extract(epoch from occurred_at), 0)::double precision
        / 2592000::double precision
  );
end
$fn$;

comment on function coliseum.recency_decay(timestamptz, timestamptz) is
  'Linear decay from 1 over the 30 days after occurred_at, never below 0.1; no decay before occurred_at. SQL twin of pg_coliseum.';

create or replace function coliseum.event_weight(tier smallint, occurred_at timestamptz, as_of timestamptz)
returns double precision
language sql immutable strict parallel safe
as $fn$
  select coliseum.tier_multiplier(tier) * coliseum.recency_decay(occurred_at, as_of)
$fn$;

comment on function coliseum.event_weight(smallint, timestamptz, timestamptz) is
  'tier_multiplier(tier) * recency_decay(occurred_at, as_of). SQL twin of pg_coliseum.';
