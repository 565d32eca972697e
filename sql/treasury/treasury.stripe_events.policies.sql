alter table treasury.stripe_events enable row level security;

grant select on treasury.stripe_events to authenticated, service_role;

drop policy if exists stripe_events_admin_reads on treasury.stripe_events;
create policy stripe_events_admin_reads on treasury.stripe_events
  for select to authenticated using ((select treasury.is_admin()));
