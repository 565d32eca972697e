create or replace trigger payout_transitions_append_only
  before update or delete or truncate on treasury.payout_transitions
  for each statement execute function treasury_private.refuse_change();

alter table treasury.payout_transitions enable always trigger payout_transitions_append_only;
