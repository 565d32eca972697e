alter table treasury.subscription_invoices enable row level security;

-- Written only by the Stripe event functions.
grant select on treasury.subscription_invoices to authenticated, service_role;

drop policy if exists subscription_invoices_user_reads on treasury.subscription_invoices;
create policy subscription_invoices_user_reads on treasury.subscription_invoices
  for select to authenticated using (
    (select treasury.is_admin())
    or exists (select 1 from treasury.subscriptions as s where s.id = subscription_id and s.user_id = (select auth.uid())));
