create or replace function concierto.my_rsvps()
returns table (
  event_id uuid,
  title text,
  venue text,
  city text,
  country text,
  starts_at timestamptz,
  event_state text,
  state text,
  created_at timestamptz,
  updated_at timestamptz
)
language sql
stable
security definer
set search_path = ''
as $$
  select e.id, e.title, e.venue, e.city, e.country::text, e.starts_at, e.state, r.state, r.created_at, r.updated_at
  from concierto.event_rsvp as r
  join concierto.events as e on e.id = r.event_id
  where r.user_id = auth.uid()
  order by e.starts_at
$$;

comment on function concierto.my_rsvps() is
  'The signed-in user''s RSVPs with their events (state going or cancelled; event_state cancelled when the host '
  'cancelled), by start.';

grant execute on function concierto.my_rsvps() to authenticated;
