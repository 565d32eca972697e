alter table concierto.ticket_tiers enable row level security;

grant select on concierto.ticket_tiers to anon, authenticated, service_role;

drop policy if exists ticket_tiers_are_public on concierto.ticket_tiers;
create policy ticket_tiers_are_public on concierto.ticket_tiers for select to anon, authenticated
  using (concierto.can_see_event(event_id));
