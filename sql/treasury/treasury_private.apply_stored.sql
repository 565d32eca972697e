-- Applies a recorded event and writes what became of it on its row. again:
-- a second or later application (a retry, a deferred event released), which
-- counts in attempts.
create or replace function treasury_private.apply_stored(event_id text, payload jsonb, again boolean)
returns jsonb
language plpgsql
volatile
as $$
declare
  result jsonb := treasury_private.apply_event(payload);
begin
  update treasury.stripe_events as e
  set status = result ->> 'status',
      note = result ->> 'note',
      applied_at = case when result ->> 'status' = 'applied' then now() end,
      outcome = result,
      attempts = e.attempts + case when again then 1 else 0 end
  where e.event_id = apply_stored.event_id;
  return result;
end
$$;
