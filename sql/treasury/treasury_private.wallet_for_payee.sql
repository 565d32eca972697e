-- Every user who gets a payable account gets a wallet.
create or replace function treasury_private.wallet_for_payee()
returns trigger
language plpgsql
as $$
begin
  perform treasury_private.ensure_wallet(new.owner_id);
  return null;
end
$$;
