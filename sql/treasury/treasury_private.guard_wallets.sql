-- The ids never change, and wallets are never deleted.
create or replace function treasury_private.guard_wallets()
returns trigger
language plpgsql
as $$
begin
  if tg_op = 'UPDATE' and new.user_id = old.user_id and new.wallet_id = old.wallet_id
     and new.created_at = old.created_at then
    return new;
  end if;
  raise exception using
    errcode = '42501',
    message = format('wallets keep their ids forever: %s is refused', tg_op),
    hint = 'Only the Stripe account and the verification change.';
end
$$;
