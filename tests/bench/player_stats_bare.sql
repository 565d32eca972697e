-- The bare read coliseum.track_stats is compared with: the same rows through the same indexes, as postgres,
-- with no function, role switch or RLS. $1: the track ids, $2: the reader.
select t.id as track_id, c.artist_id, coalesce(c.plays, 0) as plays, coalesce(d.plays_7d, 0) as plays_7d,
       coalesce(d.plays_30d, 0) as plays_30d, coalesce(c.likes, 0) as likes, coalesce(l.liked, false) as liked
from unnest($1::uuid[]) with ordinality as t(id, n)
left join coliseum_private.track_counts as c on c.track_id = t.id
left join lateral (
  select sum(x.plays) filter (where x.day > (now() at time zone 'UTC')::date - 7)::bigint as plays_7d, sum(x.plays)::bigint as plays_30d
  from coliseum_private.track_play_days as x
  where x.track_id = t.id and x.day > (now() at time zone 'UTC')::date - 30
) as d on true
left join coliseum.track_likes as l on l.fan_id = $2 and l.track_id = t.id
order by t.n
