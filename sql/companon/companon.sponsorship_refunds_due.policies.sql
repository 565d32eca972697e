alter table companon.sponsorship_refunds_due enable row level security;

-- Written only by companon_private.pay_offer and refund_offer (the webhook's transaction); read by the
-- brand's members and admins.
grant select on companon.sponsorship_refunds_due to authenticated, service_role;

drop policy if exists sponsorship_refunds_due_members_and_admins_read on companon.sponsorship_refunds_due;
create policy sponsorship_refunds_due_members_and_admins_read on companon.sponsorship_refunds_due
  for select to authenticated
  using (brand_id in (select companon.my_brands()) or (select treasury.is_admin()));
