create or replace trigger stripe_events_kept_update
  before update on treasury.stripe_events
  for each row execute function treasury_private.guard_stripe_events();

create or replace trigger stripe_events_kept_delete
  before delete or truncate on treasury.stripe_events
  for each statement execute function treasury_private.guard_stripe_events();

alter table treasury.stripe_events enable always trigger stripe_events_kept_update;

alter table treasury.stripe_events enable always trigger stripe_events_kept_delete;
