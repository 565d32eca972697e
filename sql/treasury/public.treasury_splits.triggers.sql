create or replace trigger treasury_splits_append_only
  before update or delete or truncate on public.treasury_splits
  for each statement execute function treasury_private.refuse_change();

alter table public.treasury_splits enable always trigger treasury_splits_append_only;
