create or replace function concierto.decide_application(event_id uuid, artist_id uuid, accept boolean, share_bp int default 0)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev concierto.events := concierto_private.host_event(decide_application.event_id, 'decides its applications');
  app concierto.artist_applications;
  lineup jsonb;
  problem text;
begin
  perform concierto_private.require_state(ev, array['draft'], 'a decision on an application');
  if decide_application.accept is null then
    raise exception using errcode = '22023', message = 'accept must be true or false';
  end if;
  select * into app from concierto.artist_applications as p
  where p.event_id = ev.id and p.artist_id = decide_application.artist_id for update;
  if not found then
    raise exception using errcode = 'P0002',
      message = format('artist %s did not apply to event %s', coalesce(decide_application.artist_id::text, 'null'), ev.id);
  end if;
  if app.state <> 'applied' then
    raise exception using errcode = '55000', detail = 'decided',
      message = format('the application of artist %s to event %s was %s already', app.artist_id, ev.id, app.state);
  end if;
  if decide_application.accept then
    -- The artist joins the end of the lineup, invited with the offered share.
    select coalesce(jsonb_agg(jsonb_build_object('artist_id', a.artist_id, 'share_bp', a.share_bp) order by a.position), '[]')
           || jsonb_build_array(jsonb_build_object('artist_id', app.artist_id, 'share_bp', decide_application.share_bp))
    into lineup
    from concierto.event_artists as a where a.event_id = ev.id;
    problem := concierto_private.lineup_problem(lineup, ev.split_host_bp, ev.split_platform_bp);
    if problem is not null then
      raise exception using errcode = '22023', message = problem;
    end if;
    perform concierto_private.write_lineup(ev, lineup);
  end if;
  update concierto.artist_applications as p
  set state = case when decide_application.accept then 'accepted' else 'declined' end, decided_at = now()
  where p.event_id = ev.id and p.artist_id = app.artist_id
  returning * into app;
  return to_jsonb(app);
end
$$;

comment on function concierto.decide_application(uuid, uuid, boolean, int) is
  'The host accepts an artist''s application to a draft (the artist joins the end of the lineup as invited, with '
  'share_bp, and is notified) or declines it. Returns the application. 42501 not the host; P0002 no such '
  'application; 55000 DETAIL decided / event_published / event_cancelled; 22023 shares over 10000.';

grant execute on function concierto.decide_application(uuid, uuid, boolean, int) to authenticated, service_role;
