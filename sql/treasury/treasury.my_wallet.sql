create or replace function treasury.my_wallet()
returns treasury.wallets
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', message = 'sign in to read your wallet', hint = 'Call with a user''s access token.';
  end if;
  return treasury_private.ensure_wallet(auth.uid());
end
$$;

comment on function treasury.my_wallet() is
  'The signed-in user''s wallet (wallet id, Stripe account, verification), created on first call when the user '
  'has none yet. 42501 when not signed in.';

grant execute on function treasury.my_wallet() to authenticated, service_role;
