-- The split rule of an event's tickets: the host, each lineup artist (their
-- own share_bp, in billing order) and the platform, in that order; parties
-- with a zero share are left out.
create or replace function concierto_private.split_parties(ev concierto.events)
returns jsonb
language sql
stable
as $$
  with parties as (
    select 1 as ord, 0 as sub, to_jsonb(ev.host_id) as party_id, 'host' as role, ev.split_host_bp as share_bp
    union all
    select 2, a.position, to_jsonb(a.artist_id), 'artist', a.share_bp
    from concierto.event_artists as a
    where a.event_id = ev.id
    union all
    select 3, 0, 'null'::jsonb, 'platform', ev.split_platform_bp
  )
  select jsonb_agg(jsonb_build_object('party_id', p.party_id, 'role', p.role, 'share_bp', p.share_bp) order by p.ord, p.sub)
  from parties as p
  where p.share_bp > 0
$$;
