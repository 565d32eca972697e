create or replace function concierto.lineup_invitations()
returns table (
  event_id uuid,
  title text,
  host_id uuid,
  venue text,
  city text,
  country text,
  starts_at timestamptz,
  event_state text,
  "position" int,
  share_bp int,
  state text,
  revision int,
  invited_at timestamptz,
  responded_at timestamptz
)
language sql
stable
security definer
set search_path = ''
as $$
  select e.id, e.title, e.host_id, e.venue, e.city, e.country::text, e.starts_at, e.state, a.position::int, a.share_bp,
         a.state, a.revision, a.invited_at, a.responded_at
  from concierto.event_artists as a
  join concierto.events as e on e.id = a.event_id
  where a.artist_id = auth.uid()
  order by (a.state = 'invited') desc, e.starts_at
$$;

comment on function concierto.lineup_invitations() is
  'The signed-in artist''s lineup places: the event, billing position, share (basis points), state (invited, '
  'accepted, declined) and revision to answer with; open invitations first, then by start.';

grant execute on function concierto.lineup_invitations() to authenticated;
