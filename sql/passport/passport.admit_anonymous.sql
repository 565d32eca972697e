-- Takes one request from the bucket of a client address (passport.limits'
-- address_requests_*), or raises PT429 with the seconds to wait in DETAIL.
-- passport-log calls it, as the service role, for every anonymous request
-- (no token, the anon or a publishable key) before it answers 401, so that
-- one address cannot send anonymous requests without bound whatever the
-- number of function instances. `address` is the client address the
-- platform's proxy reported; null or blank counts as 'unknown' (one shared
-- bucket). The address is a label, not proof: see docs/passport-api.md#limits.
create or replace function passport.admit_anonymous(address text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  l passport.limits;
  left_over double precision;
begin
  select * into strict l from passport.limits;
  insert into passport_private.address_buckets as b (address, requests, refilled_at)
  values (coalesce(nullif(left(btrim(admit_anonymous.address), 45), ''), 'unknown'), l.address_requests_burst - 1, clock_timestamp())
  on conflict on constraint address_buckets_pkey do update set
    requests = passport_private.refilled(b.requests, b.refilled_at, l.address_requests_burst, l.address_requests_per_minute, clock_timestamp()) - 1,
    refilled_at = clock_timestamp()
  returning b.requests into left_over;

  if left_over < 0 then
    perform passport_private.refuse_rate(
      format('one address may send %s anonymous requests at once and %s a minute', l.address_requests_burst, l.address_requests_per_minute),
      -left_over, l.address_requests_per_minute);
  end if;
end
$$;

comment on function passport.admit_anonymous(text) is
  'Counts one anonymous passport-log request against its client address; raises PT429 (DETAIL: seconds to wait) over the limit.';

grant execute on function passport.admit_anonymous(text) to service_role;
