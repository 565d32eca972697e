-- A Stripe currency ('eur') as ours ('EUR'), else null.
create or replace function treasury_private.currency_of(value jsonb)
returns text
language sql
immutable
parallel safe
as $$
  select case when jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^[A-Za-z]{3}$'
    then upper(value #>> '{}') end
$$;
