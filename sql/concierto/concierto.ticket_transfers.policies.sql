alter table concierto.ticket_transfers enable row level security;

grant select on concierto.ticket_transfers to authenticated, service_role;

drop policy if exists ticket_transfers_party_reads on concierto.ticket_transfers;
create policy ticket_transfers_party_reads on concierto.ticket_transfers
  for select to authenticated using (from_user = (select auth.uid()) or to_user = (select auth.uid()));
