create or replace trigger payments_kept_update
  before update on treasury.payments
  for each row execute function treasury_private.guard_payments();

create or replace trigger payments_kept_delete
  before delete or truncate on treasury.payments
  for each statement execute function treasury_private.guard_payments();

alter table treasury.payments enable always trigger payments_kept_update;

alter table treasury.payments enable always trigger payments_kept_delete;
