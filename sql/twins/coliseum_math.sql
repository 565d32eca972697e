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

create or replace function coliseum.tier_units(tier smallint)
returns bigint
language plpgsql immutable strict parallel safe
as $fn$
begin
  if tier between 1 and 5 then
    return ('{1,10,100,1000,10000}'::bigint[])[tier];
  end if;
  raise exception using errcode = '22023', message = 'tier must be between 1 and 5, got ' || tier;
end
$fn$;

comment on function coliseum.tier_units(smallint) is
  'The tier''s multiplier in tenths (1, 10, 100, 1000, 10000). SQL twin of pg_coliseum.';

-- Ages in whole microseconds from the exact numeric epochs: tier_units * max(P/10, P - max(age, 0)),
-- P = 2592000000000 µs (30 days); the floor age is 27 days.
create or replace function coliseum.decayed_units(tier smallint, occurred_at timestamptz, as_of timestamptz)
returns bigint
language plpgsql immutable strict parallel safe
as $fn$
declare
  units bigint := coliseum.tier_units(tier);
  age bigint;
begin
  if not isfinite(occurred_at) then
    raise exception using errcode = '22008', message = 'occurred_at must be a finite timestamp, got ' || occurred_at;
  end if;
  if not isfinite(as_of) then
    raise exception using errcode = '22008', message = 'as_of must be a finite timestamp, got ' || as_of;
  end if;
  age := ((extract(epoch from as_of) - extract(epoch from occurred_at)) * 1000000)::bigint;
  return units * greatest(259200000000, 2592000000000 - least(greatest(age, 0), 2332800000000));
end
$fn$;

comment on function coliseum.decayed_units(smallint, timestamptz, timestamptz) is
  'The exact decayed weight of one event in units x µs: tier_units * max(P/10, P - max(age, 0)), P = 30 days. SQL twin of pg_coliseum.';

create or replace function coliseum.bucket_decayed_units(
  units numeric, unit_micros numeric, bucket_start timestamptz, first_at timestamptz, last_at timestamptz, as_of timestamptz)
returns numeric
language plpgsql immutable strict parallel safe
as $fn$
declare
  arg record;
  s bigint;
  f bigint;
  l bigint;
  t bigint;
  region_f text;
  region_l text;
begin
  for arg in select * from (values (1, 'bucket_start', bucket_start), (2, 'first_at', first_at),
                                   (3, 'last_at', last_at), (4, 'as_of', as_of)) as a (i, name, value) order by i loop
    if not isfinite(arg.value) then
      raise exception using errcode = '22008', message = arg.name || ' must be a finite timestamp, got ' || arg.value;
    end if;
  end loop;
  s := (extract(epoch from bucket_start) * 1000000)::bigint; -- exact: whole microseconds
  f := (extract(epoch from first_at) * 1000000)::bigint; -- exact: whole microseconds
  l := (extract(epoch from last_at) * 1000000)::bigint; -- exact: whole microseconds
  t := (extract(epoch from as_of) * 1000000)::bigint; -- exact: whole microseconds
  if f > l or f < s then
    raise exception using errcode = '22023', message = 'a bucket needs bucket_start <= first_at <= last_at';
  end if;
  region_f := case when f > t then 'future' when f >= t - 2332800000000 then 'linear' else 'floor' end;
  region_l := case when l > t then 'future' when l >= t - 2332800000000 then 'linear' else 'floor' end;
  if region_f <> region_l then
    raise exception using errcode = '22023',
      message = 'the bucket spans two decay regions (' || region_f || ' and ' || region_l || '); decay its events one by one';
  end if;
  return case region_f
    when 'future' then units * 2592000000000
    when 'linear' then units * (2592000000000 - (t - s)) + unit_micros
    else units * 259200000000
  end;
end
$fn$;

comment on function coliseum.bucket_decayed_units(numeric, numeric, timestamptz, timestamptz, timestamptz, timestamptz) is
  'The decayed units of a bucket of events in one decay region, from sum(tier_units) and sum(tier_units * (t - bucket_start) µs). SQL twin of pg_coliseum.';
