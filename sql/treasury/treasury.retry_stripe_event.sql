create or replace function treasury.retry_stripe_event(event_id text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  stored treasury.stripe_events;
  result jsonb;
begin
  select * into stored from treasury.stripe_events as e where e.event_id = retry_stripe_event.event_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('Stripe event %s not found', coalesce(event_id, 'null'));
  end if;
  if stored.status not in ('deferred', 'failed') then
    raise exception using
      errcode = '55000',
      message = format('Stripe event %s is %s: only deferred or failed events are retried', event_id, stored.status);
  end if;
  result := treasury_private.apply_stored(stored.event_id, stored.payload, true);
  return jsonb_build_object('received', true, 'event_id', event_id, 'type', stored.type, 'retried', true) || result;
end
$$;

comment on function treasury.retry_stripe_event(text) is
  'Applies a deferred or failed Stripe event again (after its product or payment exists); returns what '
  'receive_stripe_event would. P0002 unknown event, 55000 when it is applied or ignored already.';

grant execute on function treasury.retry_stripe_event(text) to service_role;
