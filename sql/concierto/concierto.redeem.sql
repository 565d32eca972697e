create or replace function concierto.redeem(
  ticket_id uuid,
  version int,
  event_id uuid,
  gate text,
  scanned_at timestamptz default now(),
  nonce text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('validate tickets');
  ev concierto.events;
  problem text := concierto_private.scan_problem(redeem.gate, redeem.scanned_at, redeem.nonce, false);
begin
  if redeem.ticket_id is null or redeem.version is null or redeem.event_id is null then
    problem := 'ticket_id, version and event_id are required';
  end if;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;
  ev := concierto_private.door_event(redeem.event_id, me);
  return concierto_private.scan(me, redeem.ticket_id, redeem.version, ev.id, redeem.gate, redeem.scanned_at, redeem.nonce);
end
$$;

comment on function concierto.redeem(uuid, int, uuid, text, timestamptz, text) is
  'Admits a ticket at the door of event_id, once: {"status": "admitted", "ticket_id", "at", "gate"}, '
  '{"status": "already_admitted", "at", "gate"} (the first scan''s), or {"status": "refused", "code": '
  'old_version | wrong_event | void_ticket | unknown_ticket | nonce_reused | doors_not_open | doors_closed | '
  'scanned_in_future | upload_too_late | scanned_before_issue | scanned_before_transfer} (the time rules: '
  'docs/concierto-tokens.md). For the event host''s staff (42501 otherwise; P0002 unknown event). With a nonce a '
  'replay gets the first answer.';

grant execute on function concierto.redeem(uuid, int, uuid, text, timestamptz, text) to authenticated;
