create or replace function concierto.host_stats(event_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  ev concierto.events := concierto_private.find_event(host_stats.event_id);
begin
  if not (concierto_private.is_staff_of(ev.host_id, auth.uid()) or treasury.is_admin()
          or concierto_private.caller_is_privileged()) then
    raise exception using
      errcode = '42501',
      message = format('the stats of event %s are for its host and staff', ev.id);
  end if;
  return jsonb_build_object(
    'event_id', ev.id,
    'state', ev.state,
    'rsvps', case when ev.rsvp_capacity is not null then jsonb_build_object(
               'capacity', ev.rsvp_capacity,
               'going', (select count(*) from concierto.event_rsvp as r where r.event_id = ev.id and r.state = 'going'),
               'cancelled', (select count(*) from concierto.event_rsvp as r where r.event_id = ev.id and r.state = 'cancelled'))
             end,
    'tiers', coalesce((
      select jsonb_agg(jsonb_build_object(
               'tier_id', t.id, 'name', t.name, 'capacity', t.capacity,
               'sold', t.seats_sold, 'issued', c.issued, 'redeemed', c.redeemed, 'void', c.voided,
               'reserved', h.held, 'available', greatest(t.capacity - t.seats_sold - h.held, 0))
             order by t.price_minor, t.name)
      from concierto.ticket_tiers as t
      cross join lateral (
        select count(*) as issued,
               count(*) filter (where k.state = 'redeemed') as redeemed,
               count(*) filter (where k.state = 'void') as voided
        from public.event_tickets as k where k.tier_id = t.id) as c
      cross join lateral (select concierto_private.held_seats(t.id) as held) as h
      where t.event_id = ev.id), '[]'),
    'checkins', coalesce((
      select jsonb_agg(jsonb_build_object('at', b.at, 'count', b.n) order by b.at)
      from (select date_bin('5 minutes', k.redeemed_at, timestamptz '2000-01-01 00:00:00+00') as at, count(*) as n
            from public.event_tickets as k
            where k.event_id = ev.id and k.redeemed_at is not null
            group by 1) as b), '[]'));
end
$$;

comment on function concierto.host_stats(uuid) is
  'An event''s figures: its state, RSVPs {capacity, going, cancelled} of a free event (else null), per tier {tier_id, name, capacity, sold (tickets not void), issued, redeemed, void, '
  'reserved (unexpired checkouts), available} and check-ins per 5 minutes [{at, count}]. For the host, their '
  'staff, Treasury admins and service_role (42501 otherwise); P0002 unknown event.';

grant execute on function concierto.host_stats(uuid) to authenticated, service_role;
