-- SQL twins of pg_coliseum's counting rules (pg_coliseum/src/lib.rs, buckets_core/src/coliseum/counting.rs):
-- same names, argument names and types, results, volatility, strictness and errors as the extension.
-- Installed by their own generated migration (not the first math migration, which is deployed) when
-- the extension is not installed; where it is, that migration updates it instead.

-- Unix time / 30 min, rounded down, from the exact numeric epoch.
create or replace function coliseum.play_slot(occurred_at timestamptz)
returns bigint
language plpgsql immutable strict parallel safe
as $fn$
begin
  if not isfinite(occurred_at) then
    raise exception using errcode = '22008', message = 'occurred_at must be a finite timestamp, got ' || occurred_at;
  end if;
  return floor(extract(epoch from occurred_at) / 1800)::bigint;
end
$fn$;

comment on function coliseum.play_slot(timestamptz) is
  'The 30-minute slot of the UTC clock (Unix time / 1800 s, rounded down): same-track plays of a fan in one slot count once. SQL twin of pg_coliseum.';

create or replace function coliseum.play_counts(slot_rank bigint)
returns boolean
language plpgsql immutable strict parallel safe
as $fn$
begin
  if slot_rank < 1 then
    raise exception using errcode = '22023', message = 'slot_rank must be at least 1, got ' || slot_rank;
  end if;
  return slot_rank <= 10;
end
$fn$;

comment on function coliseum.play_counts(bigint) is
  'Whether the slot_rank-th distinct track of a (fan, artist, 30-minute slot) counts: the first 10 do. SQL twin of pg_coliseum.';

create or replace function coliseum.play_units(tier smallint, day_rank bigint)
returns bigint
language plpgsql immutable strict parallel safe
as $fn$
declare
  units bigint := coliseum.tier_units(tier);
begin
  if day_rank < 1 then
    raise exception using errcode = '22023', message = 'day_rank must be at least 1, got ' || day_rank;
  end if;
  return case when day_rank <= 10 then units when day_rank <= 30 then units / 2 else 0 end;
end
$fn$;

comment on function coliseum.play_units(smallint, bigint) is
  'The units of the day_rank-th counted play of a (fan, artist, UTC day): the tier''s units for the first 10, half for the next 20, then 0. SQL twin of pg_coliseum.';
