-- Stripe did not create the session of a checkout of the signed-in user:
-- it fails and its seats are released. A checkout that is open (or past)
-- is left as it is.
create or replace function treasury.checkout_failed(checkout_id uuid, code text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  co treasury.checkouts := treasury_private.my_checkout(checkout_id);
begin
  if code is null or code !~ '^[a-z][a-z0-9_]{0,63}$' then
    raise exception using errcode = '22023', detail = 'invalid_code',
      message = 'code must be a snake_case error code of up to 64 characters';
  end if;
  if co.status = 'creating' then
    update treasury.checkouts as c set status = 'failed', failure_code = code, updated_at = now()
    where c.id = co.id
    returning * into co;
    perform treasury_private.release_checkout(co);
  end if;
  return treasury_private.checkout_answer(co);
end
$$;

comment on function treasury.checkout_failed(uuid, text) is
  'Signed-in buyer: Stripe refused to create the session of their checkout (code: our error code); the checkout '
  'fails and the seats it held are released. Returns the checkout. P0002 unknown_checkout.';

grant execute on function treasury.checkout_failed(uuid, text) to authenticated;
