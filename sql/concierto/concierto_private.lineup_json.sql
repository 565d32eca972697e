-- An event's split and lineup as the host and the artists see them.
create or replace function concierto_private.lineup_json(event_id uuid)
returns jsonb
language sql
stable
as $$
  select jsonb_build_object(
    'event_id', e.id, 'state', e.state, 'host_share_bp', e.split_host_bp, 'artists_share_bp', e.split_artists_bp,
    'platform_share_bp', e.split_platform_bp,
    'split_total_bp', e.split_host_bp + e.split_artists_bp + e.split_platform_bp,
    'lineup', coalesce((select jsonb_agg(jsonb_build_object(
                                 'artist_id', a.artist_id, 'position', a.position, 'share_bp', a.share_bp, 'state', a.state,
                                 'revision', a.revision, 'invited_at', a.invited_at, 'responded_at', a.responded_at)
                               order by a.position)
                        from concierto.event_artists as a where a.event_id = e.id), '[]'))
  from concierto.events as e
  where e.id = lineup_json.event_id
$$;
