create or replace function concierto.transfer_ticket(ticket_id uuid, to_user uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('transfer a ticket');
  t public.event_tickets;
begin
  if transfer_ticket.to_user is null then
    raise exception using errcode = '22023', message = 'to_user is required';
  end if;
  select * into t from public.event_tickets as k where k.id = transfer_ticket.ticket_id for update;
  if not found then
    raise exception using errcode = 'P0002', detail = 'unknown_ticket',
      message = format('ticket %s not found', coalesce(transfer_ticket.ticket_id::text, 'null'));
  end if;
  if t.owner_id <> me then
    raise exception using errcode = '42501', detail = 'not_owner', message = format('ticket %s is not yours', t.id);
  end if;
  if transfer_ticket.to_user = me then
    raise exception using errcode = '22023', message = 'the ticket is yours already';
  end if;
  if t.state <> 'valid' then
    raise exception using errcode = '55000', detail = case t.state when 'void' then 'void_ticket' else 'redeemed_ticket' end,
      message = format('ticket %s is %s and cannot be transferred', t.id, t.state);
  end if;

  update public.event_tickets as k
  set owner_id = transfer_ticket.to_user, version = k.version + 1, transferred_at = now()
  where k.id = t.id
  returning * into t;
  insert into concierto.ticket_transfers (ticket_id, version, from_user, to_user)
  values (t.id, t.version, me, t.owner_id);
  perform passport.log(me, 'concierto.ticket_transferred', 'concierto:ticket:' || t.id || ':transferred:' || t.version,
    jsonb_build_object('event_id', t.event_id, 'ticket_id', t.id, 'to_user_id', t.owner_id), null, now(), 'concierto');
  perform people_private.notify(t.owner_id, 'ticket.transferred', 'A ticket was transferred to you',
    (select left(format('Your ticket for %s, %s', e.title, e.city), 2000) from concierto.events as e where e.id = t.event_id),
    jsonb_build_object('ticket_id', t.id, 'event_id', t.event_id, 'from_user_id', me, 'version', t.version),
    'ticket:' || t.id || ':' || t.version);
  return jsonb_build_object('ticket_id', t.id, 'version', t.version, 'event_id', t.event_id, 'owner_id', t.owner_id);
end
$$;

comment on function concierto.transfer_ticket(uuid, uuid) is
  'Gives a valid ticket of the signed-in user to to_user: the owner changes and the version grows by one, so '
  'every token signed before is refused (old_version). Returns {ticket_id, version, event_id, owner_id}. 42501 '
  'not_owner, P0002 unknown_ticket, 55000 void_ticket / redeemed_ticket, 22023 no or the same user.';

grant execute on function concierto.transfer_ticket(uuid, uuid) to authenticated;
