-- 55000 unless the event is in one of the states an action needs; DETAIL
-- names the state it is in (event_draft, event_published, event_cancelled).
create or replace function concierto_private.require_state(ev concierto.events, allowed text[], action text)
returns void
language plpgsql
stable
as $$
begin
  if not (ev.state = any (allowed)) then
    raise exception using
      errcode = '55000',
      detail = 'event_' || ev.state,
      message = format('event %s is %s: %s needs it %s', ev.id, ev.state, action, array_to_string(allowed, ' or '));
  end if;
end
$$;
