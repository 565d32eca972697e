create or replace trigger accounts_kept
  before update or delete or truncate on treasury.accounts
  for each statement execute function treasury_private.refuse_change();

alter table treasury.accounts enable always trigger accounts_kept;

create or replace trigger accounts_payee_wallet
  after insert on treasury.accounts
  for each row
  when (new.purpose = 'payable' and new.owner_id is not null)
  execute function treasury_private.wallet_for_payee();
