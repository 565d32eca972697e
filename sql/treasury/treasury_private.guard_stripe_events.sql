-- The event as received never changes; what became of it may.
create or replace function treasury_private.guard_stripe_events()
returns trigger
language plpgsql
as $$
declare
  unchanged treasury.stripe_events;
begin
  if tg_op = 'UPDATE' then
    unchanged := new;
    unchanged.status := old.status;
    unchanged.note := old.note;
    unchanged.applied_at := old.applied_at;
    unchanged.attempts := old.attempts;
    unchanged.outcome := old.outcome;
    if unchanged is not distinct from old then
      return new;
    end if;
  end if;
  raise exception using
    errcode = '42501',
    message = format('stripe_events keeps every event as received: %s is refused', tg_op),
    hint = 'Only status, note, applied_at, attempts and outcome change.';
end
$$;
