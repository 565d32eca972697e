create or replace function concierto.rsvp(event_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('RSVP');
  ev concierto.events;
  mine concierto.event_rsvp;
  going bigint;
  headliner uuid;
begin
  -- One RSVP of an event at a time: the count is read and the seat taken
  -- under the event's row lock, so concurrent RSVPs never overbook.
  select * into ev from concierto.events as e where e.id = rsvp.event_id for no key update;
  if not found or not concierto.can_see_event(ev.id) then
    raise exception using errcode = 'P0002', message = format('event %s not found', coalesce(rsvp.event_id::text, 'null'));
  end if;
  if ev.rsvp_capacity is null then
    raise exception using errcode = '55000', detail = 'not_free',
      message = format('event %s sells tickets: it takes no RSVPs', ev.id);
  end if;
  if ev.state <> 'published' then
    raise exception using errcode = '55000', detail = 'event_' || ev.state,
      message = format('event %s is %s: it takes RSVPs once published', ev.id, ev.state);
  end if;
  if ev.starts_at <= now() then
    raise exception using errcode = '55000', detail = 'event_started', message = format('event %s started at %s', ev.id, ev.starts_at);
  end if;
  select * into mine from concierto.event_rsvp as r where r.event_id = ev.id and r.user_id = me;
  going := (select count(*) from concierto.event_rsvp as r where r.event_id = ev.id and r.state = 'going');
  if mine.state is distinct from 'going' then
    if going >= ev.rsvp_capacity then
      raise exception using errcode = '55000', detail = 'full',
        message = format('event %s is full: %s of %s places taken', ev.id, going, ev.rsvp_capacity);
    end if;
    insert into concierto.event_rsvp as r (event_id, user_id) values (ev.id, me)
    on conflict on constraint event_rsvp_pkey do update set state = 'going', updated_at = now()
    returning * into mine;
    going := going + 1;
    select a.artist_id into headliner from concierto.event_artists as a where a.event_id = ev.id order by a.position limit 1;
    perform passport.log(me, 'concierto.event_rsvp', format('concierto:event:%s:rsvp:%s', ev.id, mine.updated_at),
      jsonb_build_object('event_id', ev.id, 'city', ev.city, 'country', ev.country), headliner, now(), 'concierto');
  end if;
  return jsonb_build_object('event_id', ev.id, 'state', mine.state, 'going', going, 'capacity', ev.rsvp_capacity,
                            'created_at', mine.created_at);
end
$$;

comment on function concierto.rsvp(uuid) is
  'The signed-in user says they will come to a free, published event (rsvp_capacity set). Counted under the '
  'event''s row lock: never more than rsvp_capacity going (55000 DETAIL full). Again while going: the same answer. '
  'Returns {event_id, state, going, capacity, created_at}; logs concierto.event_rsvp. 55000 DETAIL not_free, '
  'event_draft, event_cancelled, event_started; P0002 unknown event; 42501 without a user.';

grant execute on function concierto.rsvp(uuid) to authenticated;
