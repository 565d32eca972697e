create or replace function treasury.link_stripe_account(for_user uuid, stripe_account_id text)
returns treasury.wallets
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  w treasury.wallets;
begin
  if for_user is null then
    raise exception using errcode = '22023', message = 'for_user is required';
  end if;
  if stripe_account_id is null or stripe_account_id !~ '^acct_[A-Za-z0-9]{1,250}$' then
    raise exception using errcode = '22023',
      message = format('stripe_account_id must be a Stripe connected account id (acct_...), got %s', coalesce(stripe_account_id, 'null'));
  end if;
  if exists (select 1 from treasury.wallets as x
             where x.stripe_account_id = link_stripe_account.stripe_account_id and x.user_id <> for_user) then
    raise exception using errcode = '23505',
      message = format('Stripe account %s is linked to another wallet', stripe_account_id);
  end if;
  w := treasury_private.ensure_wallet(for_user);
  if w.stripe_account_id is distinct from link_stripe_account.stripe_account_id then
    -- A new destination is verified again before money goes there.
    update treasury.wallets as x
    set stripe_account_id = link_stripe_account.stripe_account_id,
        verification = 'unverified',
        verified_at = null,
        stripe_account_synced_at = null,
        verification_note = case when w.stripe_account_id is null then null
                                 else format('Stripe account changed from %s', w.stripe_account_id) end,
        updated_at = now()
    where x.user_id = for_user
    returning * into w;
  end if;
  return w;
end
$$;

comment on function treasury.link_stripe_account(uuid, text) is
  'Links a user''s wallet (created when missing) to their Stripe connected account; a different account than '
  'before resets the wallet to unverified. 22023 bad id, 23505 the account belongs to another wallet. service_role.';

grant execute on function treasury.link_stripe_account(uuid, text) to service_role;
