create or replace function concierto.set_lineup(event_id uuid, lineup jsonb, host_share_bp int default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev concierto.events := concierto_private.host_event(set_lineup.event_id, 'changes its lineup');
  host_bp int := coalesce(set_lineup.host_share_bp, ev.split_host_bp);
  problem text;
begin
  perform concierto_private.require_state(ev, array['draft'], 'a lineup change');
  problem := concierto_private.lineup_problem(set_lineup.lineup, host_bp, ev.split_platform_bp);
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;
  update concierto.events as e set split_host_bp = host_bp where e.id = ev.id;
  perform concierto_private.write_lineup(ev, set_lineup.lineup);
  perform passport.log(concierto_private.host_actor(ev), 'concierto.event_updated',
    format('concierto:event:%s:lineup:%s', ev.id, txid_current()),
    jsonb_build_object('event_id', ev.id, 'change', 'lineup'), null, now(), 'concierto');
  return concierto_private.lineup_json(ev.id);
end
$$;

comment on function concierto.set_lineup(uuid, jsonb, int) is
  'The host replaces a draft''s lineup [{"artist_id", "share_bp"}] (billing order, headliner first) and, when '
  'given, the host''s share. An artist whose billing or share is new or changed is invited again and notified '
  '(event.lineup); the others keep their answer. Returns the event''s split and lineup. 42501 not the host; 55000 '
  'DETAIL event_published / event_cancelled; 22023 names a bad entry (shares over 10000, not an artist).';

grant execute on function concierto.set_lineup(uuid, jsonb, int) to authenticated, service_role;
