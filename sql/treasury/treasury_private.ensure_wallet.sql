-- The wallet of a user, created when missing (another fresh id on the
-- unlikely collision of 40 random bits).
create or replace function treasury_private.ensure_wallet(owner uuid)
returns treasury.wallets
language plpgsql
volatile
as $$
declare
  w treasury.wallets;
begin
  loop
    select * into w from treasury.wallets as x where x.user_id = owner;
    if found then
      return w;
    end if;
    insert into treasury.wallets as x (user_id, wallet_id)
    values (owner, treasury_private.new_wallet_id())
    on conflict do nothing
    returning * into w;
    if w.user_id is not null then
      return w;
    end if;
  end loop;
end
$$;
