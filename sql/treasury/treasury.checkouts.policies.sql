alter table treasury.checkouts enable row level security;

-- Written only by treasury.begin_checkout and the session functions (security definer).
grant select on treasury.checkouts to authenticated, service_role;

drop policy if exists checkouts_buyer_reads on treasury.checkouts;
create policy checkouts_buyer_reads on treasury.checkouts
  for select to authenticated using (buyer_id = (select auth.uid()) or (select treasury.is_admin()));
