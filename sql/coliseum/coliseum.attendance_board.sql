-- Fans ranked by the events they were admitted to in one city (country ISO code, city as the events name
-- it, any case) over a period: 7d and 30d back from now, month (the current UTC calendar month), alltime.
-- rank is the competition rank (ties share it: 1, 1, 3); the first max_rows fans by rank (ties by fan id),
-- then the caller's own row when it is not among them (rank null and 0 events when they attended nothing
-- there in the period).
create or replace function coliseum.attendance_board(
  city text,
  country text,
  period text default '30d',
  max_rows int default 50
)
returns table (rank bigint, fan_id uuid, events bigint, last_attended_at timestamptz, is_caller boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  key_city text := lower(btrim(attendance_board.city));
  since timestamptz;
  key_month date;
begin
  if coalesce(btrim(attendance_board.city), '') = '' then
    raise exception using errcode = '22023', message = 'city must name a city, got an empty or null one';
  end if;
  if attendance_board.country is null or attendance_board.country !~ '^[A-Za-z]{2}$' then
    raise exception using
      errcode = '22023',
      message = format('country must be an ISO 3166-1 alpha-2 code such as NG, got %s',
                       coalesce(quote_literal(attendance_board.country), 'null'));
  end if;
  if lower(period) is null or lower(period) not in ('7d', '30d', 'month', 'alltime') then
    raise exception using
      errcode = '22023',
      message = format('period must be 7d, 30d, month or alltime, got %s', coalesce(quote_literal(period), 'null'));
  end if;
  since := now() - case lower(period) when '7d' then interval '7 days' else interval '30 days' end;
  key_month := case lower(period) when 'month' then date_trunc('month', now(), 'UTC')::date else '-infinity'::date end;
  if max_rows is null or max_rows not between 1 and 100 then
    raise exception using
      errcode = '22023',
      message = format('max_rows must be between 1 and 100, got %s', coalesce(max_rows::text, 'null'));
  end if;
  if lower(period) in ('7d', '30d') then
    -- A week or a month back from now: counted from the city's attendances in the window.
    return query
    with counts as (
      select a.fan_id, count(*) as events, max(a.attended_at) as last_at
      from coliseum_private.attendances as a
      where a.country = upper(attendance_board.country) and lower(a.city) = key_city and a.attended_at > since
      group by a.fan_id
    ),
    ranked as (
      select rank() over (order by c.events desc) as r, row_number() over (order by c.events desc, c.fan_id) as n, c.*
      from counts as c
    )
    select k.r, k.fan_id, k.events, k.last_at, k.fan_id is not distinct from me
    from ranked as k
    where k.n <= max_rows or k.fan_id = me
    union all
    select null, me, 0, null, true
    where me is not null and not exists (select from counts as c where c.fan_id = me)
    order by 1 nulls last, 2;
  else
    -- The calendar month or all time: the top rows off the counts' index, in rank order (a row's rank
    -- depends only on the rows before it), and the caller's rank as 1 + the fans with more events.
    return query
    with top as (
      select c.fan_id, c.events, c.last_attended_at
      from coliseum_private.attendance_counts as c
      where c.country = upper(attendance_board.country) and c.city_key = key_city and c.month = key_month
      order by c.events desc, c.fan_id
      limit max_rows
    ),
    mine as (
      select c.events, c.last_attended_at
      from coliseum_private.attendance_counts as c
      where c.country = upper(attendance_board.country) and c.city_key = key_city and c.month = key_month
        and c.fan_id = me
    )
    select rank() over (order by t.events desc), t.fan_id, t.events, t.last_attended_at, t.fan_id is not distinct from me
    from top as t
    union all
    select
      case when m.events is null then null
           else 1 + (select count(*) from coliseum_private.attendance_counts as c
                     where c.country = upper(attendance_board.country) and c.city_key = key_city
                       and c.month = key_month and c.events > m.events) end,
      me, coalesce(m.events, 0), m.last_attended_at, true
    from (select) as one
    left join mine as m on true
    where me is not null and not exists (select from top as t where t.fan_id = me)
    order by 1 nulls last, 2;
  end if;
end
$$;

comment on function coliseum.attendance_board(text, text, text, int) is
  'Fans ranked by events attended in a city (country code) over 7d, 30d, month or alltime: rank, fan_id, events, '
  'last_attended_at, is_caller; the top max_rows (1..100) and the caller''s own row. 22023 for bad arguments.';

revoke execute on function coliseum.attendance_board(text, text, text, int) from public;
grant execute on function coliseum.attendance_board(text, text, text, int) to authenticated, service_role;
