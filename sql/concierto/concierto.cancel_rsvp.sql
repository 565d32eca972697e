create or replace function concierto.cancel_rsvp(event_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('cancel an RSVP');
  ev concierto.events;
  mine concierto.event_rsvp;
begin
  select * into ev from concierto.events as e where e.id = cancel_rsvp.event_id for no key update;
  update concierto.event_rsvp as r set state = 'cancelled', updated_at = now()
  where r.event_id = ev.id and r.user_id = me and r.state = 'going'
  returning * into mine;
  if not found then
    select * into mine from concierto.event_rsvp as r where r.event_id = ev.id and r.user_id = me;
    if not found then
      raise exception using errcode = 'P0002',
        message = format('you have no RSVP for event %s', coalesce(cancel_rsvp.event_id::text, 'null'));
    end if;
  end if;
  return jsonb_build_object('event_id', ev.id, 'state', mine.state, 'capacity', ev.rsvp_capacity,
    'going', (select count(*) from concierto.event_rsvp as r where r.event_id = ev.id and r.state = 'going'));
end
$$;

comment on function concierto.cancel_rsvp(uuid) is
  'The signed-in user withdraws their RSVP; the place is free again at once. Again: the same answer. Returns '
  '{event_id, state, capacity, going}. P0002 no RSVP; 42501 without a user.';

grant execute on function concierto.cancel_rsvp(uuid) to authenticated;
