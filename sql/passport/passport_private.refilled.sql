-- The tokens a bucket holds at `at`: the `tokens` it held at `refilled_at` plus
-- what `per_minute` gave since, at most `burst`. A clock that went back adds
-- nothing.
create or replace function passport_private.refilled(
  tokens double precision,
  refilled_at timestamptz,
  burst integer,
  per_minute integer,
  at timestamptz
)
returns double precision
language sql
immutable
as $$
  select least(burst::double precision,
               tokens + greatest(extract(epoch from at - refilled_at)::double precision, 0) * per_minute / 60.0)
$$;
