create or replace function concierto.update_event(
  event_id uuid,
  title text default null,
  venue text default null,
  city text default null,
  country text default null,
  starts_at timestamptz default null,
  doors_at timestamptz default null,
  rsvp_capacity int default null,
  takes_applications boolean default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev concierto.events := concierto_private.host_event(update_event.event_id, 'edits it');
  after concierto.events;
  problem text;
begin
  perform concierto_private.require_state(ev, array['draft', 'published'], 'an edit');
  after := ev;
  after.title := coalesce(update_event.title, ev.title);
  after.venue := coalesce(update_event.venue, ev.venue);
  after.city := coalesce(update_event.city, ev.city);
  after.country := coalesce(update_event.country, ev.country);
  after.starts_at := coalesce(update_event.starts_at, ev.starts_at);
  after.doors_at := coalesce(update_event.doors_at, ev.doors_at);
  after.rsvp_capacity := coalesce(update_event.rsvp_capacity, ev.rsvp_capacity);
  after.takes_applications := coalesce(update_event.takes_applications, ev.takes_applications);
  problem := coalesce(
    concierto_private.event_problem(after.title, after.venue, after.city, after.country, after.starts_at, after.doors_at,
                                    after.currency),
    case
      when after.starts_at is distinct from ev.starts_at and after.starts_at <= now() then 'starts_at must be in the future'
      when after.rsvp_capacity is distinct from ev.rsvp_capacity and after.rsvp_capacity not between 1 and 1000000 then
        'rsvp_capacity must be 1 to 1000000'
      when after.rsvp_capacity is distinct from ev.rsvp_capacity
           and exists (select 1 from concierto.ticket_tiers as t where t.event_id = ev.id and t.removed_at is null) then
        format('event %s sells tickets: remove its tiers before it takes RSVPs', ev.id)
      when after.rsvp_capacity < (select count(*) from concierto.event_rsvp as r where r.event_id = ev.id and r.state = 'going') then
        format('%s people RSVPed to event %s already: rsvp_capacity cannot be less',
               (select count(*) from concierto.event_rsvp as r where r.event_id = ev.id and r.state = 'going'), ev.id)
    end);
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  update concierto.events as e
  set title = after.title, venue = after.venue, city = after.city, country = after.country, starts_at = after.starts_at,
      doors_at = after.doors_at, rsvp_capacity = after.rsvp_capacity, takes_applications = after.takes_applications,
      updated_at = now()
  where e.id = ev.id
  returning * into after;
  -- Sales that ended at the old start follow the new one.
  if after.starts_at <> ev.starts_at then
    update concierto.ticket_tiers as t set sale_ends_at = after.starts_at
    where t.event_id = ev.id and t.sale_ends_at = ev.starts_at and t.sale_starts_at < after.starts_at;
  end if;
  perform passport.log(concierto_private.host_actor(ev), 'concierto.event_updated',
    format('concierto:event:%s:updated:%s', ev.id, txid_current()),
    jsonb_build_object('event_id', ev.id, 'change', 'details'), null, now(), 'concierto');
  return to_jsonb(after);
end
$$;

comment on function concierto.update_event(uuid, text, text, text, text, timestamptz, timestamptz, int, boolean) is
  'The host (or service_role) edits a draft or published event: title, venue, city, country, times, RSVP capacity, '
  'open call; null keeps a value. Tiers whose sale ended at the old start follow the new one. Returns the event. '
  '42501 not the host; 55000 DETAIL event_cancelled; 22023 names a bad value; P0002 unknown event.';

grant execute on function concierto.update_event(uuid, text, text, text, text, timestamptz, timestamptz, int, boolean)
  to authenticated, service_role;
