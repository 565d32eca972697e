create or replace view treasury.stripe_event_problems
with (security_invoker = true)
as
select e.event_id, e.type, e.status, e.note, e.payment_intent_id, e.charge_id, e.stripe_created, e.received_at, e.attempts
from treasury.stripe_events as e
where e.status in ('failed', 'deferred');

comment on view treasury.stripe_event_problems is
  'Stripe events that need an admin: failed ones (note says why) and deferred ones still waiting for their payment.';

grant select on treasury.stripe_event_problems to authenticated, service_role;
