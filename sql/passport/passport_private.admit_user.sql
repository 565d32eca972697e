-- Takes one request and `events` events from the user's buckets
-- (passport.limits), or raises PT429 naming the limit and the seconds to
-- wait. One upsert: it locks the user's row, so the requests of one user,
-- from any number of function instances, pass one at a time, each seeing
-- what the one before took. The tokens are taken even when they are short;
-- the exception then rolls that back with everything else of the request.
-- A new user (or one whose full bucket the prune job dropped) starts full.
create or replace function passport_private.admit_user(who uuid, events integer)
returns void
language plpgsql
volatile
as $$
declare
  l passport.limits;
  left_over record;
begin
  select * into strict l from passport.limits;
  insert into passport_private.user_buckets as b (user_id, requests, events, refilled_at)
  values (who, l.user_requests_burst - 1, l.user_events_burst - admit_user.events, clock_timestamp())
  on conflict (user_id) do update set
    requests = passport_private.refilled(b.requests, b.refilled_at, l.user_requests_burst, l.user_requests_per_minute, clock_timestamp()) - 1,
    events = passport_private.refilled(b.events, b.refilled_at, l.user_events_burst, l.user_events_per_minute, clock_timestamp()) - admit_user.events,
    refilled_at = clock_timestamp()
  returning b.requests, b.events into left_over;

  -- The longer wait is the one to report.
  if left_over.requests < 0 and -left_over.requests * l.user_events_per_minute >= -least(left_over.events, 0) * l.user_requests_per_minute then
    perform passport_private.refuse_rate(
      format('a user may send %s requests at once and %s a minute', l.user_requests_burst, l.user_requests_per_minute),
      -left_over.requests, l.user_requests_per_minute);
  elsif left_over.events < 0 then
    perform passport_private.refuse_rate(
      format('a user may send %s events at once and %s a minute', l.user_events_burst, l.user_events_per_minute),
      -left_over.events, l.user_events_per_minute);
  end if;
end
$$;
