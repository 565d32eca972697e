-- Anybody's badges, as a profile page shows them: what was earned, for which
-- artist and month, and when (the day). Which entries earned them stays with
-- the user (people.my_badges): those are their activity log.
create or replace function people.user_badges(user_id uuid)
returns table (
  code text,
  title text,
  description text,
  image text,
  artist_id uuid,
  period_start date,
  awarded_on date
)
language sql
stable
security definer
set search_path = ''
as $$
  select b.code, b.title, b.description, b.image, a.artist_id, a.period_start,
         (a.awarded_at at time zone 'UTC')::date
  from people.badge_awards as a
  join people.badges as b on b.id = a.badge_id
  where a.user_id = user_badges.user_id
  order by a.awarded_at desc, a.id desc
$$;

comment on function people.user_badges(uuid) is
  'A user''s badges as anybody may see them: badge, artist, month and the UTC day it was awarded; nothing of the '
  'entries behind them. Empty for an unknown user.';

grant execute on function people.user_badges(uuid) to anon, authenticated, service_role;
