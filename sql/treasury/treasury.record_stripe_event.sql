-- Records a verified Stripe event, durably and once, without applying it:
-- what the webhook does before it answers Stripe 2xx. The INSERT is the
-- exactly-once gate: a redelivery (also one that arrives while the first is
-- being recorded: it waits on the unique index) finds the row and is answered
-- as a duplicate. The event is then 'received' until the batch applier
-- (treasury.apply_stripe_events) applies it. body_sha256: the hash of the body
-- as signed, which the webhook passes because the payload may differ from it
-- (U+0000 replaced).
create or replace function treasury.record_stripe_event(event jsonb, body_sha256 text default null)
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
    lower(record_stripe_event.body_sha256),
    'received')
  on conflict on constraint stripe_events_pkey do nothing;
  if not found then
    select e.status into recorded from treasury.stripe_events as e where e.event_id = evt_id;
    return jsonb_build_object('received', true, 'status', 'duplicate', 'event_id', evt_id, 'recorded_status', recorded);
  end if;
  return jsonb_build_object('received', true, 'status', 'received', 'event_id', evt_id, 'type', event_type);
end
$$;

comment on function treasury.record_stripe_event(jsonb, text) is
  'Records one verified Stripe event without applying it; returns {"received": true, "status": "received", '
  '"event_id", "type"}, or {"status": "duplicate", "recorded_status"} for an event id recorded before. '
  'treasury.apply_stripe_events applies it; its row in treasury.stripe_events shows the status and outcome. '
  '22023 when the event lacks id, type or data.object.';

grant execute on function treasury.record_stripe_event(jsonb, text) to service_role;
