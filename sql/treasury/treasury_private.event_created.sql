-- When Stripe created the event; the time it is received when the event
-- carries no usable created (a Unix time in seconds), so that a signed event
-- without one is still recorded and applied rather than refused forever.
create or replace function treasury_private.event_created(event jsonb)
returns timestamptz
language sql
stable
as $$
  select coalesce(
    case when treasury_private.json_bigint(event -> 'created') between 0 and 253402300799
      then to_timestamp(treasury_private.json_bigint(event -> 'created')) end,
    now())
$$;
