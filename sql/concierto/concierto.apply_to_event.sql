create or replace function concierto.apply_to_event(event_id uuid, note text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('apply to play an event');
  ev concierto.events;
  mine concierto.artist_applications;
begin
  if not people.has_role('artist', me) then
    raise exception using errcode = '42501', message = 'only verified artists apply to play events';
  end if;
  if apply_to_event.note is not null and char_length(apply_to_event.note) not between 1 and 1000 then
    raise exception using errcode = '22023', message = 'note must be a string of 1 to 1000 characters';
  end if;
  select * into ev from concierto.events as e where e.id = apply_to_event.event_id for no key update;
  if not found or not concierto.can_see_event(ev.id) then
    raise exception using errcode = 'P0002', message = format('event %s not found', coalesce(apply_to_event.event_id::text, 'null'));
  end if;
  if not (ev.state = 'draft' and ev.takes_applications) then
    raise exception using errcode = '55000', detail = 'no_open_call',
      message = format('event %s takes no applications', ev.id);
  end if;
  if exists (select 1 from concierto.event_artists as a where a.event_id = ev.id and a.artist_id = me) then
    raise exception using errcode = '55000', detail = 'on_lineup', message = format('you are on the lineup of event %s already', ev.id);
  end if;
  insert into concierto.artist_applications as p (event_id, artist_id, note) values (ev.id, me, apply_to_event.note)
  on conflict on constraint artist_applications_pkey do nothing
  returning * into mine;
  if mine.event_id is null then
    select * into mine from concierto.artist_applications as p where p.event_id = ev.id and p.artist_id = me;
  else
    perform passport.log(me, 'concierto.artist_applied', format('concierto:event:%s:applied:%s', ev.id, me),
      jsonb_build_object('event_id', ev.id), me, now(), 'concierto');
  end if;
  return to_jsonb(mine);
end
$$;

comment on function concierto.apply_to_event(uuid, text) is
  'A verified artist applies to play a draft event that takes applications (an open call), with an optional note '
  'to the host. Once per event: again answers the application as it stands. Returns the application. 42501 not an '
  'artist; 55000 DETAIL no_open_call / on_lineup; P0002 unknown event; 22023 bad note.';

grant execute on function concierto.apply_to_event(uuid, text) to authenticated;
