-- The payout-account function records the Express account it created for a
-- payee's wallet, as the service role, once Stripe's account names that payee:
-- only while the wallet has no account (or the same one). Replacing the
-- destination of a payee's money is support's, through
-- treasury.link_stripe_account. Payees never call it: one who could would name
-- any account as their destination, or take another payee's first.
create or replace function treasury.record_payout_account(stripe_account_id text, for_user uuid default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  w treasury.wallets;
begin
  if not treasury_private.caller_is_privileged() then
    raise exception using errcode = '42501', message = 'only the payout-account function records payout accounts',
      hint = 'POST /functions/v1/payout-account with the payee''s access token.';
  end if;
  if for_user is null then
    raise exception using errcode = '22023', message = 'for_user is required';
  end if;
  select * into w from treasury.wallets as x where x.user_id = for_user for update;
  if w.stripe_account_id is not null and w.stripe_account_id is distinct from record_payout_account.stripe_account_id then
    raise exception using errcode = '55000',
      message = format('wallet %s already pays out to %s', w.wallet_id, w.stripe_account_id),
      hint = 'Changing where payouts go is done by support (treasury.link_stripe_account as service_role).';
  end if;
  w := treasury.link_stripe_account(for_user, stripe_account_id);
  return jsonb_build_object(
    'user_id', w.user_id,
    'wallet_id', w.wallet_id,
    'stripe_account_id', w.stripe_account_id,
    'verification', w.verification);
end
$$;

comment on function treasury.record_payout_account(text, uuid) is
  'service_role (the payout-account function): records the Stripe Express account created for for_user''s wallet, '
  'only while the wallet has no other account (55000). Returns {"user_id", "wallet_id", "stripe_account_id", '
  '"verification"}. 22023 bad id or no for_user, 23505 the account belongs to another wallet, 42501 anyone else.';

revoke all on function treasury.record_payout_account(text, uuid) from public, anon, authenticated;
grant execute on function treasury.record_payout_account(text, uuid) to service_role;
