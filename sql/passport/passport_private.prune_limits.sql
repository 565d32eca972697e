-- Drops the buckets that would be full by now (a full bucket is what a new
-- row starts with, so nothing is lost) and returns how many went. Run every
-- 10 minutes by the pg_cron job passport-prune-rejections (through
-- prune_rejections): the address buckets of made-up addresses then last
-- minutes, not forever.
create or replace function passport_private.prune_limits()
returns bigint
language plpgsql
as $$
declare
  l passport.limits;
  users bigint;
  addresses bigint;
begin
  select * into strict l from passport.limits;
  delete from passport_private.user_buckets as b
  where passport_private.refilled(b.requests, b.refilled_at, l.user_requests_burst, l.user_requests_per_minute, now()) >= l.user_requests_burst
    and passport_private.refilled(b.events, b.refilled_at, l.user_events_burst, l.user_events_per_minute, now()) >= l.user_events_burst;
  get diagnostics users = row_count;
  delete from passport_private.address_buckets as b
  where passport_private.refilled(b.requests, b.refilled_at, l.address_requests_burst, l.address_requests_per_minute, now()) >= l.address_requests_burst;
  get diagnostics addresses = row_count;
  return users + addresses;
end
$$;
