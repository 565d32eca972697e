-- Whether a Stripe event is recorded and still waits for the batch applier.
create or replace function treasury_private.is_received(event_id text)
returns boolean
language sql
stable
as $$
  select exists (select from treasury.stripe_events as e where e.event_id = is_received.event_id and e.status = 'received')
$$;
