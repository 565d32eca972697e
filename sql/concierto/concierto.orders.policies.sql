alter table concierto.orders enable row level security;

grant select on concierto.orders to authenticated, service_role;

drop policy if exists orders_buyer_reads on concierto.orders;
create policy orders_buyer_reads on concierto.orders
  for select to authenticated using (buyer_id = (select auth.uid()));
