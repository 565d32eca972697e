create or replace trigger wallets_kept_update
  before update on treasury.wallets
  for each row execute function treasury_private.guard_wallets();

create or replace trigger wallets_kept_delete
  before delete or truncate on treasury.wallets
  for each statement execute function treasury_private.guard_wallets();

alter table treasury.wallets enable always trigger wallets_kept_update;

alter table treasury.wallets enable always trigger wallets_kept_delete;
