-- An RFC 3339 date-time as chrono's parse_from_rfc3339 reads it, or null.
-- The shape is the pattern of validate.rs; the ranges are chrono's: hour
-- 00-23, minute 00-59, second 00-60 (60 is a leap second, any minute), offset
-- up to ±23:59, year 0001-9999 (validate.rs refuses year 0000 as Postgres
-- does). Fractions are cut, not rounded, to microseconds, as
-- timestamp_micros() does. Built from parts rather than cast, because the
-- timestamptz input disagrees with chrono on offsets beyond ±15:59 and on
-- hour 24, and because a cast would need an exception block. The pattern has
-- no capture groups (they make Postgres' regex engine several times slower):
-- once it matched, every part sits at a known position.
create or replace function passport_private.parse_rfc3339(value text)
returns timestamptz
language plpgsql
immutable
strict
parallel safe
as $$
declare
  year int;
  month int;
  day int;
  hour int;
  minute int;
  second int;
  zone_start int;
  micros int := 0;
  offset_hours int := 0;
  offset_minutes int := 0;
begin
  if not value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$' then
    return null;
  end if;
  year := substr(value, 1, 4)::int;
  month := substr(value, 6, 2)::int;
  day := substr(value, 9, 2)::int;
  hour := substr(value, 12, 2)::int;
  minute := substr(value, 15, 2)::int;
  second := substr(value, 18, 2)::int;
  if right(value, 1) in ('Z', 'z') then
    zone_start := length(value);
  else
    zone_start := length(value) - 5;
    offset_hours := substr(value, zone_start + 1, 2)::int;
    offset_minutes := right(value, 2)::int;
  end if;

  if year = 0
     or month not between 1 and 12
     or day not between 1 and (case
                                 when month in (4, 6, 9, 11) then 30
                                 when month <> 2 then 31
                                 when year % 4 = 0 and (year % 100 <> 0 or year % 400 = 0) then 29
                                 else 28
                               end)
     or hour > 23 or minute > 59 or second > 60
     or offset_hours > 23 or offset_minutes > 59 then
    return null;
  end if;

  if zone_start > 20 then
    micros := rpad(substr(value, 21, least(6, zone_start - 21)), 6, '0')::int;
  end if;
  if substr(value, zone_start, 1) = '-' then
    offset_hours := -offset_hours;
    offset_minutes := -offset_minutes;
  end if;
  return (make_timestamp(year, month, day, hour, minute, 0)
          + (second * 1000000 + micros) * interval '1 microsecond'
          - make_interval(hours => offset_hours, mins => offset_minutes)) at time zone 'UTC';
end
$$;
