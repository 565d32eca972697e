create or replace trigger payouts_kept
  before delete or truncate on treasury.payouts
  for each statement execute function treasury_private.refuse_change();

alter table treasury.payouts enable always trigger payouts_kept;
