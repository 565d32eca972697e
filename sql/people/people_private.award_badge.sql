-- Awards one badge to one user in one scope, inside the caller's transaction:
-- the badge.earned entry (its client_event_id is the award's key, so a second
-- call finds the stored one), the award row, and the notification (its dedupe
-- key is the award's id). Returns the award's id, or null when the user had
-- it already.
create or replace function people_private.award_badge(
  badge_id bigint,
  user_id uuid,
  scope text,
  artist_id uuid default null,
  period_start date default null,
  earned_by_entry_id bigint default null)
returns bigint
language plpgsql
volatile
as $$
declare
  badge people.badges;
  period text := to_char(period_start, 'YYYY-MM');
  logged bigint;
  award_id bigint;
begin
  select * into strict badge from people.badges as b where b.id = award_badge.badge_id;
  if exists (select from people.badge_awards as a
             where a.user_id = award_badge.user_id and a.badge_id = badge.id and a.scope = award_badge.scope) then
    return null;
  end if;
  logged := passport.log(
    user_id => award_badge.user_id,
    kind => 'badge.earned',
    client_event_id => format('badge:%s:%s', badge.id, award_badge.scope),
    payload => jsonb_strip_nulls(jsonb_build_object('badge', badge.code, 'period', period)),
    artist_id => award_badge.artist_id,
    source => 'system');
  insert into people.badge_awards as a (user_id, badge_id, scope, artist_id, period_start, earned_by_entry_id, entry_id)
  values (award_badge.user_id, badge.id, award_badge.scope, award_badge.artist_id, award_badge.period_start,
          award_badge.earned_by_entry_id, logged)
  on conflict on constraint badge_awards_user_id_badge_id_scope_key do nothing
  returning a.id into award_id;
  if award_id is not null then
    perform people_private.notify(
      user_id => award_badge.user_id,
      kind => 'badge.earned',
      title => format('Badge earned: %s', badge.title),
      body => badge.description,
      payload => jsonb_strip_nulls(jsonb_build_object(
        'award_id', award_id, 'badge', badge.code, 'image', badge.image, 'artist_id', award_badge.artist_id,
        'period', period)),
      dedupe_key => 'badge-award:' || award_id);
  end if;
  return award_id;
end
$$;

comment on function people_private.award_badge(bigint, uuid, text, uuid, date, bigint) is
  'Awards a badge once per (user, badge, scope): logs badge.earned, stores the award, notifies (badge.earned). '
  'The award''s id, or null when the user had it already.';
