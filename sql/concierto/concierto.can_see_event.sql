-- Drafts are the host's business until published: the host, the lineup they
-- invited and Treasury admins see them; an open call is shown to everybody so
-- artists can apply. The policies of events, lineups and tiers ask this; as a
-- definer it reads the lineup without going through those policies again.
create or replace function concierto.can_see_event(event_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from concierto.events as e
    where e.id = can_see_event.event_id
      and (e.state <> 'draft' or e.takes_applications
           or e.host_id = auth.uid()
           or exists (select 1 from concierto.event_artists as a where a.event_id = e.id and a.artist_id = auth.uid())
           or treasury.is_admin()))
$$;

comment on function concierto.can_see_event(uuid) is
  'Whether the caller may see an event, its lineup and tiers: a published or cancelled event, an open call '
  '(takes_applications), or a draft of which the caller is the host, a lineup artist or a Treasury admin.';

grant execute on function concierto.can_see_event(uuid) to anon, authenticated, service_role;
