create or replace trigger payout_attempts_kept
  before delete or truncate on treasury.payout_attempts
  for each statement execute function treasury_private.refuse_change();

alter table treasury.payout_attempts enable always trigger payout_attempts_kept;
