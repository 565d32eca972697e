create or replace function concierto.create_draft_event(
  title text,
  venue text,
  city text,
  country text,
  starts_at timestamptz,
  doors_at timestamptz,
  currency text,
  host_share_bp int,
  lineup jsonb default '[]'::jsonb,
  rsvp_capacity int default null,
  takes_applications boolean default false
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('create an event');
  platform_bp int := (select s.platform_share_bp from concierto.settings as s);
  problem text;
  ev concierto.events;
begin
  if not people.has_role('host', me) then
    raise exception using
      errcode = '42501',
      message = 'only verified hosts create events',
      hint = 'The platform grants the host role (people.role_grants).';
  end if;
  problem := coalesce(
    concierto_private.event_problem(create_draft_event.title, create_draft_event.venue, create_draft_event.city,
                                    create_draft_event.country, create_draft_event.starts_at, create_draft_event.doors_at,
                                    create_draft_event.currency),
    case
      when create_draft_event.starts_at <= now() then 'starts_at must be in the future'
      when create_draft_event.rsvp_capacity is not null and create_draft_event.rsvp_capacity not between 1 and 1000000 then
        'rsvp_capacity must be 1 to 1000000 (or null for a ticketed event)'
      when create_draft_event.takes_applications is null then 'takes_applications must be true or false'
    end,
    concierto_private.lineup_problem(coalesce(create_draft_event.lineup, '[]'), create_draft_event.host_share_bp, platform_bp));
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  insert into concierto.events as e
    (host_id, title, venue, city, country, starts_at, doors_at, currency, split_host_bp, split_artists_bp,
     split_platform_bp, state, rsvp_capacity, takes_applications)
  values
    (me, create_draft_event.title, create_draft_event.venue, create_draft_event.city, create_draft_event.country,
     create_draft_event.starts_at, create_draft_event.doors_at, create_draft_event.currency,
     create_draft_event.host_share_bp, 0, platform_bp, 'draft', create_draft_event.rsvp_capacity,
     create_draft_event.takes_applications)
  returning * into ev;
  perform concierto_private.write_lineup(ev, coalesce(create_draft_event.lineup, '[]'));
  perform passport.log(me, 'concierto.event_created', 'concierto:event:' || ev.id || ':created',
    jsonb_build_object('event_id', ev.id, 'city', ev.city, 'country', ev.country), null, now(), 'concierto');
  return ev.id;
end
$$;

comment on function concierto.create_draft_event(text, text, text, text, timestamptz, timestamptz, text, int, jsonb, int, boolean) is
  'A verified host (people.has_role(''host'')) creates an event as a draft and returns its id: the venue and '
  'times, the currency, the host''s share and the lineup [{"artist_id", "share_bp"}] in billing order (each artist '
  'is invited and notified); the platform''s share comes from concierto.settings. rsvp_capacity makes it a free '
  'event taking RSVPs; takes_applications opens a call for artists. 42501 not a host; 22023 names a bad argument.';

grant execute on function concierto.create_draft_event(text, text, text, text, timestamptz, timestamptz, text, int, jsonb, int, boolean)
  to authenticated;
