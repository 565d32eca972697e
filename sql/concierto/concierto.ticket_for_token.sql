create or replace function concierto.ticket_for_token(ticket_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('show a ticket');
  t public.event_tickets;
begin
  select * into t from public.event_tickets as k where k.id = ticket_for_token.ticket_id;
  if not found then
    raise exception using errcode = 'P0002', detail = 'unknown_ticket',
      message = format('ticket %s not found', coalesce(ticket_for_token.ticket_id::text, 'null'));
  end if;
  if t.owner_id <> me then
    raise exception using errcode = '42501', detail = 'not_owner',
      message = format('ticket %s is not yours', t.id);
  end if;
  if t.state = 'void' then
    raise exception using errcode = '55000', detail = 'void_ticket',
      message = format('ticket %s is void (%s)', t.id, t.void_reason);
  end if;
  return jsonb_build_object('ticket_id', t.id, 'version', t.version, 'event_id', t.event_id, 'state', t.state);
end
$$;

comment on function concierto.ticket_for_token(uuid) is
  'What the ticket-token edge function signs: {ticket_id, version, event_id, state} of a ticket of the signed-in '
  'user. 42501 (DETAIL not_owner) for anyone else, P0002 unknown_ticket, 55000 void_ticket.';

grant execute on function concierto.ticket_for_token(uuid) to authenticated;
