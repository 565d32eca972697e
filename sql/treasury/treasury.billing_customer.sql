-- The signed-in user's Stripe Customer, for the billing portal.
create or replace function treasury.billing_customer()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  customer text;
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', detail = 'sign_in_required', message = 'sign in to manage billing';
  end if;
  select s.customer_id into customer from treasury.stripe_customers as s where s.user_id = auth.uid();
  if customer is null then
    raise exception using errcode = 'P0002', detail = 'no_billing_account',
      message = 'you have no subscription to manage',
      hint = 'A billing account is created by the first membership or plan checkout.';
  end if;
  return customer;
end
$$;

comment on function treasury.billing_customer() is
  'Signed-in user: their Stripe Customer id (cus_...), for the Customer Portal. P0002 no_billing_account when they '
  'never subscribed; 42501 without a user.';

grant execute on function treasury.billing_customer() to authenticated;
