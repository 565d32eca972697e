-- Checks a range of UTC days asked of a read: both ends given, to_day not before from_day, at most 731 days
-- (two years) so one call stays cheap. 22023 naming the problem.
create or replace function companon_private.day_range(from_day date, to_day date)
returns void
language plpgsql
immutable
as $$
begin
  if from_day is null or to_day is null or not isfinite(from_day) or not isfinite(to_day) then
    raise exception using errcode = '22023', message = 'from_day and to_day must be dates';
  end if;
  if to_day < from_day then
    raise exception using errcode = '22023',
      message = format('to_day (%s) is before from_day (%s)', to_day, from_day);
  end if;
  if to_day - from_day + 1 > 731 then
    raise exception using errcode = '22023',
      message = format('the range %s to %s is %s days: ask for at most 731', from_day, to_day, to_day - from_day + 1);
  end if;
end
$$;
