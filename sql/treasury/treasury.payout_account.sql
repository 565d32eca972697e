-- What POST /functions/v1/payout-account needs of the signed-in payee: their
-- wallet (made when missing), its Stripe connected account if any, and the
-- email Stripe's onboarding starts with.
create or replace function treasury.payout_account()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  w treasury.wallets;
  address text;
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', message = 'sign in to set up payouts', hint = 'Call with a user''s access token.';
  end if;
  w := treasury_private.ensure_wallet(auth.uid());
  select u.email into address from auth.users as u where u.id = w.user_id;
  return jsonb_build_object(
    'user_id', w.user_id,
    'wallet_id', w.wallet_id,
    'stripe_account_id', w.stripe_account_id,
    'verification', w.verification,
    'email', address);
end
$$;

comment on function treasury.payout_account() is
  'The signed-in user''s payout account: {"user_id", "wallet_id", "stripe_account_id" (null before onboarding), '
  '"verification", "email"}; the wallet is made when missing. 42501 when not signed in.';

grant execute on function treasury.payout_account() to authenticated, service_role;
