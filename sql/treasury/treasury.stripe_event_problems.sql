create or replace view treasury.stripe_event_problems
with (security_invoker = true)
as
select e.event_id, e.type, e.status, e.note, e.payment_intent_id, e.charge_id, e.stripe_created, e.received_at, e.attempts
from treasury.stripe_events as e
where e.status in ('failed', 'deferred')
   -- Received and not applied within a minute: no batch applier runs (the webhook drives one, pg_cron job
   -- treasury-apply-stripe-events every second).
   or (e.status = 'received' and e.received_at < now() - interval '1 minute');

comment on view treasury.stripe_event_problems is
  'Stripe events that need an admin: failed ones (note says why), deferred ones still waiting for their payment, and '
  'received ones not applied within a minute (no batch applier runs: check pg_cron job treasury-apply-stripe-events).';

grant select on treasury.stripe_event_problems to authenticated, service_role;
