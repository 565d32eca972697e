-- The split rule of an event's tickets: the host, each lineup artist (equal
-- shares of split_artists_bp, the indivisible rest to the headliner) and the
-- platform, in that order; parties with a zero share are left out.
create or replace function concierto_private.split_parties(ev concierto.events)
returns jsonb
language sql
stable
as $$
  with lineup as (
    select a.artist_id, a.position, count(*) over () as n, row_number() over (order by a.position) as rank
    from concierto.event_artists as a
    where a.event_id = ev.id
  ),
  parties as (
    select 1 as ord, 0 as sub, to_jsonb(ev.host_id) as party_id, 'host' as role, ev.split_host_bp as share_bp
    union all
    select 2, l.rank, to_jsonb(l.artist_id), 'artist',
           (ev.split_artists_bp / l.n + case when l.rank = 1 then ev.split_artists_bp % l.n else 0 end)::int
    from lineup as l
    union all
    select 3, 0, 'null'::jsonb, 'platform', ev.split_platform_bp
  )
  select jsonb_agg(jsonb_build_object('party_id', p.party_id, 'role', p.role, 'share_bp', p.share_bp) order by p.ord, p.sub)
  from parties as p
  where p.share_bp > 0
$$;
