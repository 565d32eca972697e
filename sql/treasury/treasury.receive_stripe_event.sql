-- Records a verified Stripe event and applies it in the caller's
-- transaction, returning what applying answered: for SQL callers that want
-- the outcome in hand (replays, tests, psql). It is the webhook's two steps
-- in one transaction: treasury.record_stripe_event, then the batch applier
-- (treasury.apply_stripe_events) until the event has left 'received'. So
-- there is one apply path: the batch takes the event with every other
-- recorded one in Stripe's order, and mixing this function with the webhook
-- keeps each payment's order.
create or replace function treasury.receive_stripe_event(event jsonb, body_sha256 text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  answer jsonb := treasury.record_stripe_event(event, body_sha256);
  evt_id text := answer ->> 'event_id';
  result jsonb;
begin
  if answer ->> 'status' = 'duplicate' then
    return answer;
  end if;
  while treasury_private.is_received(evt_id) loop
    perform treasury.apply_stripe_events(10000, evt_id);
  end loop;
  select e.outcome into result from treasury.stripe_events as e where e.event_id = evt_id;
  return answer - 'status' || result;
end
$$;

comment on function treasury.receive_stripe_event(jsonb, text) is
  'Records and applies one verified Stripe event in one transaction (treasury.record_stripe_event, then '
  'treasury.apply_stripe_events until it is applied, with any events recorded before it, in Stripe''s order); '
  'returns {"received": true, "status": applied|ignored|deferred|failed|duplicate, "event_id", "note"?, '
  '"payment_id"?, ...}. A redelivered event id is a duplicate and changes nothing. 22023 when the event lacks id, '
  'type or data.object; without a usable created it is recorded and applied as created when received. '
  'body_sha256 (optional): the SHA-256 of the body as signed.';

grant execute on function treasury.receive_stripe_event(jsonb, text) to service_role;
