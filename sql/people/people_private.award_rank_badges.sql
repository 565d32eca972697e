-- The rank rules (top fans of an artist's month): after a UTC month closed,
-- the fans with the most of the rule's metric in Coliseum's per-day fan
-- totals (coliseum_private.fan_days: the counting rules already applied),
-- ties broken by entries then fan id, as the top-fan signal does. Artists
-- held off the boards now have no top fans: a rank is a public standing.
-- The default is every active rank rule for the month before now (the
-- pg_cron job people-badges-monthly); only_badge evaluates one badge whatever
-- its state (its backfill). Run again, it awards nothing twice. Returns the
-- number of awards.
create or replace function people_private.award_rank_badges(
  month date default (date_trunc('month', now() at time zone 'UTC') - interval '1 month')::date,
  only_badge bigint default null)
returns int
language plpgsql
volatile
as $$
declare
  first_day date := date_trunc('month', month)::date;
  awarded int;
begin
  if month is null or first_day + interval '1 month' > (now() at time zone 'UTC')::date then
    raise exception using
      errcode = '22023',
      message = format('month %s has not closed yet', coalesce(month::text, 'null')),
      hint = 'Rank badges are awarded for a month once it has ended (UTC).';
  end if;
  with rules as (
    select b.id as badge_id, b.rule ->> 'metric' as metric, (b.rule ->> 'top')::int as top
    from people.badges as b
    where b.rule ->> 'type' = 'rank' and case when only_badge is null then b.active else b.id = only_badge end
  ),
  fans as (
    select
      r.badge_id, r.top, d.artist_id, d.fan_id,
      sum(case r.metric when 'units' then d.units when 'counted_plays' then d.counted_plays else d.entries end) as value,
      sum(d.entries) as entries
    from coliseum_private.fan_days as d
    cross join rules as r
    where d.day >= first_day and d.day < first_day + interval '1 month'
      and d.artist_id not in (select h.artist_id from coliseum.artist_holds as h where h.released_at is null)
    group by r.badge_id, r.top, d.artist_id, d.fan_id
  ),
  ranked as (
    select f.*, row_number() over (partition by f.badge_id, f.artist_id order by f.value desc, f.entries desc, f.fan_id) as rank
    from fans as f
    where f.value > 0
  )
  select count(people_private.award_badge(
           badge_id => r.badge_id, user_id => r.fan_id, scope => r.artist_id || '/' || to_char(first_day, 'YYYY-MM'),
           artist_id => r.artist_id, period_start => first_day))
  into awarded
  from ranked as r
  where r.rank <= r.top;
  return awarded;
end
$$;

comment on function people_private.award_rank_badges(date, bigint) is
  'Awards the rank badges (every active one, or only_badge) of a closed UTC month: each artist''s top fans by the '
  'rule''s metric, held artists left out; awards nothing twice. The pg_cron job people-badges-monthly runs it for '
  'the month before.';
