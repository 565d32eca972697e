-- The player's figures for a list of tracks, one row per distinct id in the order asked (ids never played
-- or liked answer zeros): counted plays over all time, the last 7 and 30 UTC days (today included), the
-- fans who like the track now, and whether the caller does (false for anon). One index lookup per track
-- in each table.
create or replace function coliseum.track_stats(track_ids uuid[])
returns table (track_id uuid, artist_id uuid, plays bigint, plays_7d bigint, plays_30d bigint, likes bigint,
               liked boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  me uuid := auth.uid();
begin
  perform coliseum_private.check_id_list(track_ids, 'track_ids');
  return query
  select
    t.id, c.artist_id, coalesce(c.plays, 0), coalesce(d.plays_7d, 0), coalesce(d.plays_30d, 0),
    coalesce(c.likes, 0), coalesce(l.liked, false)
  from (select distinct on (u.id) u.id, u.n from unnest(track_ids) with ordinality as u(id, n)
        where u.id is not null order by u.id, u.n) as t
  left join coliseum_private.track_counts as c on c.track_id = t.id
  left join lateral (
    select sum(x.plays) filter (where x.day > today - 7)::bigint as plays_7d, sum(x.plays)::bigint as plays_30d
    from coliseum_private.track_play_days as x
    where x.track_id = t.id and x.day > today - 30
  ) as d on true
  left join coliseum.track_likes as l on l.fan_id = me and l.track_id = t.id
  order by t.n;
end
$$;

comment on function coliseum.track_stats(uuid[]) is
  'Player stats for up to 500 tracks: track_id, artist_id, plays (counted, all time), plays_7d, plays_30d, likes, '
  'liked (by the caller). 22023 for a null or longer list.';

grant execute on function coliseum.track_stats(uuid[]) to anon, authenticated, service_role;
