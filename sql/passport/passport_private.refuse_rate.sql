-- Raises PT429 (our own SQLSTATE, "too many requests") when a bucket is
-- short: `short` tokens are missing and come back at `per_minute`. DETAIL is
-- the whole seconds to wait, at least 1, which passport-log sends as
-- Retry-After; the message says which limit was met.
create or replace function passport_private.refuse_rate(what text, short double precision, per_minute integer)
returns void
language plpgsql
volatile
as $$
declare
  wait_s integer := greatest(ceil(short * 60.0 / per_minute), 1)::integer;
begin
  raise exception using
    errcode = 'PT429',
    message = format('rate limited: %s; retry in %s s', what, wait_s),
    detail = wait_s::text,
    hint = 'Wait the seconds in DETAIL (passport-log''s Retry-After) and send again; batch events, up to 500 a request.';
end
$$;
