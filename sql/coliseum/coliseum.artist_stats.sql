-- The player's figures for a list of artists, one row per distinct id in the order asked (zeros for an
-- artist nobody played): counted plays of their tracks over all time, the last 7 and 30 UTC days (today
-- included), and the likes their tracks hold now.
create or replace function coliseum.artist_stats(artist_ids uuid[])
returns table (artist_id uuid, plays bigint, plays_7d bigint, plays_30d bigint, likes bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  today date := (now() at time zone 'UTC')::date;
begin
  perform coliseum_private.check_id_list(artist_ids, 'artist_ids');
  return query
  select a.id, coalesce(c.plays, 0), coalesce(d.plays_7d, 0), coalesce(d.plays_30d, 0), coalesce(c.likes, 0)
  from (select distinct on (u.id) u.id, u.n from unnest(artist_ids) with ordinality as u(id, n)
        where u.id is not null order by u.id, u.n) as a
  left join coliseum_private.artist_counts as c on c.artist_id = a.id
  left join lateral (
    select sum(x.plays) filter (where x.day > today - 7)::bigint as plays_7d, sum(x.plays)::bigint as plays_30d
    from coliseum_private.artist_play_days as x
    where x.artist_id = a.id and x.day > today - 30
  ) as d on true
  order by a.n;
end
$$;

comment on function coliseum.artist_stats(uuid[]) is
  'Player stats for up to 500 artists: artist_id, plays (counted, all time), plays_7d, plays_30d, likes. '
  '22023 for a null or longer list.';

grant execute on function coliseum.artist_stats(uuid[]) to anon, authenticated, service_role;
