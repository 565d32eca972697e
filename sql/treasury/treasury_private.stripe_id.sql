-- A Stripe reference that is either an id string or an expanded object.
create or replace function treasury_private.stripe_id(value jsonb)
returns text
language sql
immutable
parallel safe
as $$
  select case jsonb_typeof(value)
    when 'string' then value #>> '{}'
    when 'object' then case when jsonb_typeof(value -> 'id') = 'string' then value ->> 'id' end
  end
$$;
