alter table treasury.stripe_customers enable row level security;

-- Written only by the Stripe event functions.
grant select on treasury.stripe_customers to authenticated, service_role;

drop policy if exists stripe_customers_user_reads on treasury.stripe_customers;
create policy stripe_customers_user_reads on treasury.stripe_customers
  for select to authenticated using (user_id = (select auth.uid()) or (select treasury.is_admin()));
