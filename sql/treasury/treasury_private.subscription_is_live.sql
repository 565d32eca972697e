-- Whether a subscription still gives, or will give, access: paid for now, or
-- not ended at Stripe (a new checkout for the same thing would bill twice).
create or replace function treasury_private.subscription_is_live(s treasury.subscriptions)
returns boolean
language sql
stable
as $$
  select coalesce(s.access_until > now(), false)
      or (s.ended_at is null and coalesce(s.status, 'active') not in ('canceled', 'incomplete_expired', 'unpaid'))
$$;
