-- Records a verified Stripe event and applies it, in one transaction. The
-- INSERT is the exactly-once gate: a redelivery (also one that arrives while
-- the first is still being applied: it waits on the unique index) finds the
-- row and is answered as a duplicate, never applied again. body_sha256: the
-- hash of the body as signed, which the webhook passes because the payload
-- may differ from it (U+0000 replaced).
create or replace function treasury.receive_stripe_event(event jsonb, body_sha256 text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem text := treasury_private.event_problem(event);
  evt_id text := event ->> 'id';
  event_type text := event ->> 'type';
  obj jsonb := event -> 'data' -> 'object';
  recorded text;
  result jsonb;
begin
  if problem is not null then
    raise exception using
      errcode = '22023',
      message = problem,
      hint = 'Pass the event exactly as Stripe sent it: {"id", "type", "created", "livemode", "data": {"object": {...}}}.';
  end if;

  insert into treasury.stripe_events
    (event_id, type, livemode, api_version, stripe_created, payment_intent_id, charge_id, payload, body_sha256, status)
  values (
    evt_id,
    event_type,
    coalesce((event ->> 'livemode')::boolean, false),
    left(event ->> 'api_version', 50),
    treasury_private.event_created(event),
    case when event_type like 'payment\_intent.%' then treasury_private.stripe_id(obj -> 'id')
         else treasury_private.stripe_id(obj -> 'payment_intent') end,
    case when event_type like 'charge.%' and event_type not like 'charge.dispute.%' then treasury_private.stripe_id(obj -> 'id')
         else treasury_private.stripe_id(obj -> 'charge') end,
    event,
    lower(receive_stripe_event.body_sha256),
    'received')
  on conflict on constraint stripe_events_pkey do nothing;
  if not found then
    select e.status into recorded from treasury.stripe_events as e where e.event_id = evt_id;
    return jsonb_build_object('received', true, 'status', 'duplicate', 'event_id', evt_id, 'recorded_status', recorded);
  end if;

  result := treasury_private.apply_event(event);
  update treasury.stripe_events as e
  set status = result ->> 'status',
      note = result ->> 'note',
      applied_at = case when result ->> 'status' = 'applied' then now() end
  where e.event_id = evt_id;
  return jsonb_build_object('received', true, 'event_id', evt_id, 'type', event_type) || result;
end
$$;

comment on function treasury.receive_stripe_event(jsonb, text) is
  'Records and applies one verified Stripe event in one transaction; returns {"received": true, "status": '
  'applied|ignored|deferred|failed|duplicate, "event_id", "note"?, "payment_id"?, ...}. A redelivered event id is '
  'a duplicate and changes nothing. 22023 when the event lacks id, type or data.object; without a usable created '
  'it is recorded and applied as created when received. body_sha256 (optional): the SHA-256 of the body as signed.';

grant execute on function treasury.receive_stripe_event(jsonb, text) to service_role;
