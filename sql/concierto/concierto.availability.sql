create or replace function concierto.availability(event_id uuid)
returns table (
  tier_id uuid,
  name text,
  price_minor bigint,
  currency text,
  capacity int,
  available int,
  sale_starts_at timestamptz,
  sale_ends_at timestamptz,
  on_sale boolean
)
language sql
stable
security definer
set search_path = ''
as $$
  select t.id, t.name, t.price_minor, t.currency::text, t.capacity,
         greatest(t.capacity - t.seats_sold - concierto_private.held_seats(t.id), 0)::int,
         t.sale_starts_at, t.sale_ends_at,
         e.state = 'published' and now() >= t.sale_starts_at and now() < t.sale_ends_at
  from concierto.ticket_tiers as t
  join concierto.events as e on e.id = t.event_id
  where t.event_id = availability.event_id and t.removed_at is null and concierto.can_see_event(e.id)
  order by t.price_minor, t.name
$$;

comment on function concierto.availability(uuid) is
  'The tiers of an event with the seats still available (capacity less sold tickets and unexpired reservations) '
  'and whether they are on sale now (only a published event is). Removed tiers are left out; a draft''s tiers '
  'are listed to whom may see the draft (concierto.can_see_event). For everybody.';

grant execute on function concierto.availability(uuid) to anon, authenticated, service_role;
