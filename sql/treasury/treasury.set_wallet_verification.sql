create or replace function treasury.set_wallet_verification(for_user uuid, verified boolean, note text default null)
returns treasury.wallets
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  w treasury.wallets;
begin
  if for_user is null or verified is null then
    raise exception using errcode = '22023', message = 'for_user and verified are required';
  end if;
  select * into w from treasury.wallets as x where x.user_id = for_user for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('user %s has no wallet', for_user),
      hint = 'Link their Stripe account first (treasury.link_stripe_account).';
  end if;
  if verified and w.stripe_account_id is null then
    raise exception using errcode = '55000', message = format('wallet %s has no Stripe account to verify', w.wallet_id),
      hint = 'Link the Stripe account first (treasury.link_stripe_account).';
  end if;
  update treasury.wallets as x
  set verification = case when verified then 'verified' else 'unverified' end,
      verified_at = case when not verified then null when x.verification = 'verified' then x.verified_at else now() end,
      verification_note = coalesce(left(note, 500), x.verification_note),
      updated_at = now()
  where x.user_id = for_user
  returning * into w;

  -- Payouts held only because the wallet was unverified (and for an artist
  -- hold released since) go out now.
  if verified then
    perform treasury_private.release_cleared_payouts(for_user, 'wallet verified');
  end if;
  return w;
end
$$;

comment on function treasury.set_wallet_verification(uuid, boolean, text) is
  'Marks a user''s wallet verified or unverified (service_role, e.g. when Stripe reports the connected account '
  'payouts_enabled). Verifying releases the payouts held only because the wallet was unverified (or for an artist '
  'hold released since). P0002 no wallet; '
  '55000 verifying a wallet without a Stripe account.';

grant execute on function treasury.set_wallet_verification(uuid, boolean, text) to service_role;
