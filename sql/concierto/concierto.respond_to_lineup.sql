create or replace function concierto.respond_to_lineup(event_id uuid, accept boolean, revision int default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('answer an invitation');
  ev concierto.events;
  line concierto.event_artists;
begin
  if respond_to_lineup.accept is null then
    raise exception using errcode = '22023', message = 'accept must be true or false';
  end if;
  -- The event's lock: the host's lineup changes and this answer are ordered.
  select * into ev from concierto.events as e where e.id = respond_to_lineup.event_id for no key update;
  select * into line from concierto.event_artists as a where a.event_id = ev.id and a.artist_id = me;
  if ev.id is null or line.artist_id is null then
    raise exception using errcode = 'P0002',
      message = format('you are not on the lineup of event %s', coalesce(respond_to_lineup.event_id::text, 'null'));
  end if;
  perform concierto_private.require_state(ev, array['draft'], 'an answer to the lineup');
  if respond_to_lineup.revision is not null and respond_to_lineup.revision <> line.revision then
    raise exception using errcode = '55000', detail = 'stale_invitation',
      message = format('the invitation to event %s changed (revision %s, you answered %s)', ev.id, line.revision,
                       respond_to_lineup.revision),
      hint = 'Read the invitation again (concierto.lineup_invitations) and answer it.';
  end if;

  update concierto.event_artists as a
  set state = case when respond_to_lineup.accept then 'accepted' else 'declined' end, responded_at = now()
  where a.event_id = ev.id and a.artist_id = me
  returning * into line;
  perform passport.log(me, case when respond_to_lineup.accept then 'concierto.lineup_accepted' else 'concierto.lineup_declined' end,
    format('concierto:lineup:%s:%s:%s:%s', ev.id, me, line.revision, line.state),
    jsonb_build_object('event_id', ev.id, 'position', line.position, 'share_bp', line.share_bp), me, now(), 'concierto');
  return jsonb_build_object('event_id', ev.id, 'artist_id', me, 'position', line.position, 'share_bp', line.share_bp,
                            'state', line.state, 'revision', line.revision, 'responded_at', line.responded_at);
end
$$;

comment on function concierto.respond_to_lineup(uuid, boolean, int) is
  'A lineup artist accepts or declines their billing and share on a draft event; give the revision read from '
  'lineup_invitations to be sure the answer is to that offer (55000 DETAIL stale_invitation when the host changed '
  'it). P0002 not on the lineup; 55000 DETAIL event_published / event_cancelled; 42501 without a user.';

grant execute on function concierto.respond_to_lineup(uuid, boolean, int) to authenticated;
