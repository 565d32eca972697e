alter table treasury.subscriptions enable row level security;

-- Written only by the Stripe event functions.
grant select on treasury.subscriptions to authenticated, service_role;

drop policy if exists subscriptions_user_reads on treasury.subscriptions;
create policy subscriptions_user_reads on treasury.subscriptions
  for select to authenticated using (user_id = (select auth.uid()) or (select treasury.is_admin()));
