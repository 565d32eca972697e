-- A request with a client_request_id seen before: the same item gets the
-- same checkout back (its session, or the same Stripe call to repeat);
-- another item is 22023 client_request_id_reused; a checkout that can no
-- longer open is 55000 checkout_closed.
create or replace function treasury_private.checkout_replay(earlier treasury.checkouts, item jsonb)
returns jsonb
language plpgsql
stable
as $$
begin
  if earlier.item <> item then
    raise exception using errcode = '22023', detail = 'client_request_id_reused',
      message = format('client_request_id %s was used for another item', earlier.client_request_id),
      hint = 'Use a new Idempotency-Key for a new checkout.';
  end if;
  -- Stripe refuses a session that would expire within 30 minutes of its creation.
  if earlier.status in ('failed', 'expired')
     or (earlier.status = 'creating' and earlier.expires_at < now() + interval '30 minutes 30 seconds') then
    raise exception using errcode = '55000', detail = 'checkout_closed',
      message = format('checkout %s is %s', earlier.id, case when earlier.status = 'creating' then 'too old to open' else earlier.status end),
      hint = 'Start a new checkout with a new Idempotency-Key.';
  end if;
  return treasury_private.checkout_answer(earlier);
end
$$;
