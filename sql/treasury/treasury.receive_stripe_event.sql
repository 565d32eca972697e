-- Records a verified Stripe event and applies it at once, in the caller's
-- transaction: for SQL callers that want the outcome in hand (replays, tests,
-- psql). The webhook records only (treasury.record_stripe_event) and leaves
-- the application to the batch applier, which keeps Stripe's order across
-- events of one payment; this applies the one event now, so do not mix the
-- two for the events of one payment.
create or replace function treasury.receive_stripe_event(event jsonb, body_sha256 text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  answer jsonb := treasury.record_stripe_event(event, body_sha256);
begin
  if answer ->> 'status' = 'duplicate' then
    return answer;
  end if;
  return answer - 'status' || treasury_private.apply_stored(event ->> 'id', event, false);
end
$$;

comment on function treasury.receive_stripe_event(jsonb, text) is
  'Records and applies one verified Stripe event in one transaction; returns {"received": true, "status": '
  'applied|ignored|deferred|failed|duplicate, "event_id", "note"?, "payment_id"?, ...}. A redelivered event id is '
  'a duplicate and changes nothing. 22023 when the event lacks id, type or data.object; without a usable created '
  'it is recorded and applied as created when received. body_sha256 (optional): the SHA-256 of the body as signed. '
  'The webhook uses treasury.record_stripe_event and the batch applier instead.';

grant execute on function treasury.receive_stripe_event(jsonb, text) to service_role;
