-- The door's decision for one scan. A valid ticket of this version and event
-- is admitted only at a time the scan can have happened (scan_time_problem:
-- not before the ticket or its version existed, inside the event's door
-- window, not in the future, not from an upload a day late). First scan
-- wins: the UPDATE admits only a valid ticket of this version and event, and
-- a concurrent second scan waits on the row, then finds it redeemed. An admission logs
-- concierto.ticket_validated for the holder and concierto.event_attended
-- for each lineup artist (once per fan and event), in this transaction.
create or replace function concierto_private.admit(staff uuid, ticket uuid, token_version int, at_event uuid, gate text, scanned_at timestamptz)
returns jsonb
language plpgsql
volatile
as $$
declare
  t public.event_tickets;
  ev concierto.events;
  logged_at timestamptz := least(scanned_at, now());
  problem text;
begin
  select * into t from public.event_tickets as k where k.id = ticket;
  if t.state = 'valid' and t.version = token_version and t.event_id = at_event then
    select * into ev from concierto.events as e where e.id = at_event;
    problem := concierto_private.scan_time_problem(t, ev, scanned_at);
    if problem is not null then
      return concierto_private.refused(problem);
    end if;
  end if;

  update public.event_tickets as k
  set state = 'redeemed', redeemed_at = admit.scanned_at, redeemed_gate = admit.gate, redeemed_by = staff
  where k.id = ticket and k.state = 'valid' and k.version = token_version and k.event_id = at_event
  returning * into t;
  if found then
    select * into ev from concierto.events as e where e.id = t.event_id;
    perform passport.log(t.owner_id, 'concierto.ticket_validated', 'concierto:ticket:' || t.id || ':validated',
      jsonb_build_object('event_id', ev.id, 'ticket_id', t.id, 'gate', t.redeemed_gate, 'city', ev.city,
                         'country', ev.country),
      null, logged_at, 'concierto');
    perform passport.log(t.owner_id, 'concierto.event_attended', 'concierto:event:' || ev.id || ':attended:' || a.artist_id,
      jsonb_build_object('event_id', ev.id, 'city', ev.city, 'country', ev.country), a.artist_id, logged_at, 'concierto')
    from concierto.event_artists as a
    where a.event_id = ev.id
    order by a.position;
    return jsonb_build_object('status', 'admitted', 'ticket_id', t.id, 'at', t.redeemed_at, 'gate', t.redeemed_gate);
  end if;

  select * into t from public.event_tickets as k where k.id = ticket;
  if not found then
    return concierto_private.refused('unknown_ticket');
  elsif t.event_id <> at_event then
    return concierto_private.refused('wrong_event');
  elsif t.state = 'void' then
    return concierto_private.refused('void_ticket');
  elsif t.version <> token_version then
    return concierto_private.refused('old_version');
  elsif t.state = 'redeemed' then
    return jsonb_build_object('status', 'already_admitted', 'at', t.redeemed_at, 'gate', t.redeemed_gate);
  end if;
  -- Valid, this version and event, yet not updated: a change we could not
  -- see committed in between. The caller retries.
  raise exception using errcode = '40001', message = format('ticket %s changed during the scan; retry', t.id);
end
$$;
