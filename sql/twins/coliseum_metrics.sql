-- SQL twins of pg_coliseum's domain metrics (pg_coliseum/src/lib.rs,
-- buckets_core/src/coliseum/metrics.rs). Same names, argument names and types, volatility,
-- strictness, results and errors as the extension; the results are bit-identical float8 values
-- because each twin evaluates the same float8 operations in the same order as the Rust code
-- (see docs/coliseum-math.md).
--
-- Installed into schema coliseum by the generated migration when the extension is unavailable,
-- executed there as one string inside a DO block: plain SQL only, $fn$ quotes only.

-- One strict expression, so the planner inlines it into the caller's query. float8larger and
-- float8smaller are the functions behind greatest/least, which (being CASE-like) would stop
-- the inlining; like them they order NaN above every number, so NaN scores 100.
create or replace function coliseum.strength_score(raw double precision)
returns double precision
language sql immutable strict parallel safe
as $fn$
  select float8smaller(
    100::double precision,
    100::double precision * ln(1::double precision + float8larger(raw, 0::double precision))
      / ln(10000001::double precision)
  )
$fn$;

comment on function coliseum.strength_score(double precision) is
  'A domain''s raw strength on the 0-100 log scale: least(100, 100 ln(1 + greatest(raw, 0)) / ln(1 + 1e7)). SQL twin of pg_coliseum.';

-- The spread metrics loop over the array in order, as Rust does, summing with float8 "+" so
-- that every rounding step is the same; an aggregate over unnest() would do the same sums but
-- costs more per call than plpgsql. NULL elements are skipped (a NULL comparison is not true);
-- NaN and infinities are refused where they occur, after any earlier overflow of the sum.

create or replace function coliseum.normalized_entropy(weights double precision[])
returns double precision
language plpgsql immutable strict parallel safe
as $fn$
declare
  w double precision;
  k integer := 0;
  total double precision := 0;
  p double precision;
  h double precision := 0;
begin
  foreach w in array weights loop
    if not (w > '-Infinity'::double precision and w < 'Infinity'::double precision) then
      raise exception using errcode = '22023', message = 'weights must be finite, got ' || w;
    end if;
    if w > 0 then
      k := k + 1;
      total := total + w;
    end if;
  end loop;
  if k < 2 then
    return 0;
  end if;
  foreach w in array weights loop
    if w > 0 then
      p := w / total;
      h := h + p * ln(p);
    end if;
  end loop;
  return least(1::double precision, -h / ln(k::double precision));
end
$fn$;

comment on function coliseum.normalized_entropy(double precision[]) is
  'Shannon entropy of the shares of the positive weights over ln(k), in 0..1 (0 when k < 2); NULLs skipped. SQL twin of pg_coliseum.';

create or replace function coliseum.concentration(weights double precision[])
returns double precision
language plpgsql immutable strict parallel safe
as $fn$
declare
  w double precision;
  k integer := 0;
  total double precision := 0;
  p double precision;
  h double precision := 0;
begin
  foreach w in array weights loop
    if not (w > '-Infinity'::double precision and w < 'Infinity'::double precision) then
      raise exception using errcode = '22023', message = 'weights must be finite, got ' || w;
    end if;
    if w > 0 then
      k := k + 1;
      total := total + w;
    end if;
  end loop;
  if k = 0 then
    return 0;
  end if;
  foreach w in array weights loop
    if w > 0 then
      p := w / total;
      h := h + p * p;
    end if;
  end loop;
  return least(1::double precision, h);
end
$fn$;

comment on function coliseum.concentration(double precision[]) is
  'Herfindahl index (sum of squared shares) of the positive weights, in 0..1 (1 for one weight, 0 for none); NULLs skipped. SQL twin of pg_coliseum.';
