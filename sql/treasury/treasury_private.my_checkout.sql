-- The signed-in user's checkout, locked for the change about to be made;
-- 42501 without a user, P0002 unknown_checkout when it is not theirs.
create or replace function treasury_private.my_checkout(checkout_id uuid)
returns treasury.checkouts
language plpgsql
volatile
as $$
declare
  co treasury.checkouts;
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', detail = 'sign_in_required', message = 'sign in to check out';
  end if;
  select * into co from treasury.checkouts as c
  where c.id = my_checkout.checkout_id and c.buyer_id = auth.uid()
  for update;
  if not found then
    raise exception using errcode = 'P0002', detail = 'unknown_checkout',
      message = format('checkout %s not found', coalesce(my_checkout.checkout_id::text, 'null'));
  end if;
  return co;
end
$$;
