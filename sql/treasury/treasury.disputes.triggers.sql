create or replace trigger disputes_kept
  before delete or truncate on treasury.disputes
  for each statement execute function treasury_private.refuse_change();

alter table treasury.disputes enable always trigger disputes_kept;
