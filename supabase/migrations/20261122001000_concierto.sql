-- Concierto: live events, ticket tiers sold through Treasury, tickets issued in the payment's
-- transaction, door validation, transfers, attendance into Passport (docs/concierto.md).
-- Builds on 20261122000800_treasury_ledger.sql, whose hooks after_payment / after_refund it
-- replaces.
--
--   concierto.events                one per live event: host, venue, times, currency, split settings
--   concierto.event_artists         the lineup, in billing order (position 1: the headliner)
--   concierto.ticket_tiers          what is on sale: price, capacity, sale window; each is a Treasury product
--   concierto.staff                 who may validate a host's tickets (the host always may)
--   concierto.orders                reservations for a checkout (15 minutes), then paid, expired or refund_due
--   public.event_tickets            one per seat: owner, state (valid | redeemed | void), version
--   concierto.scans                 every door scan with its answer; the nonce makes offline uploads idempotent
--   concierto.ticket_transfers      who gave which ticket to whom
--   concierto.refunds_due           payments Concierto could not honour, for operators to refund
--
--   concierto.create_event, create_tier, add_staff, remove_staff, is_staff, availability
--   concierto.reserve               hold seats for a checkout; returns the Stripe metadata
--   concierto.ticket_for_token      what the edge signs into a ticket's QR token (owner only)
--   concierto.redeem, upload_scans  the door (staff only)
--   concierto.transfer_ticket       give a ticket away (owner only)
--   concierto.host_stats            sold / issued / redeemed / void per tier, check-ins per 5 minutes
--
-- Errors carry a SQLSTATE: 22023 bad argument, 42501 privilege, P0002 not found, 55000 wrong state
-- (sold out, sale closed, void ticket); DETAIL holds a stable code where the app needs one.

------------------------------------------------------------------------------
-- Events, lineups, tiers, staff
------------------------------------------------------------------------------

create table concierto.events (
  id uuid primary key default gen_random_uuid(),
  host_id uuid not null,
  title text not null check (char_length(title) between 1 and 200),
  venue text not null check (char_length(venue) between 1 and 200),
  city text not null check (char_length(city) between 1 and 100),
  country char(2) not null check (country ~ '^[A-Z]{2}$'),
  starts_at timestamptz not null check (isfinite(starts_at)),
  doors_at timestamptz not null check (isfinite(doors_at)),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  split_host_bp int not null check (split_host_bp between 0 and 10000),
  split_artists_bp int not null check (split_artists_bp between 0 and 10000),
  split_platform_bp int not null check (split_platform_bp between 0 and 10000),
  created_at timestamptz not null default now(),
  constraint events_doors_check check (doors_at <= starts_at),
  constraint events_split_check check (split_host_bp + split_artists_bp + split_platform_bp = 10000)
);

comment on table concierto.events is
  'Concierto: a live event of a host at a venue (city, ISO country), with its ticket currency and how ticket '
  'revenue is split between the host, the lineup (equal shares) and the platform, in basis points summing to '
  '10000. Created by concierto.create_event; readable by everybody.';

create index events_host_idx on concierto.events (host_id);

create table concierto.event_artists (
  event_id uuid not null references concierto.events (id),
  artist_id uuid not null,
  position smallint not null check (position between 1 and 50),
  primary key (event_id, artist_id),
  constraint event_artists_position_key unique (event_id, position)
);

comment on table concierto.event_artists is
  'The lineup of an event in billing order; position 1 is the headliner (the artist a ticket purchase is logged '
  'for in Passport). Every lineup artist gets event_attended when a ticket is admitted.';

create index event_artists_artist_idx on concierto.event_artists (artist_id);

create table concierto.ticket_tiers (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references concierto.events (id),
  name text not null check (char_length(name) between 1 and 100),
  price_minor bigint not null check (price_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  capacity int not null check (capacity between 1 and 1000000),
  seats_sold int not null default 0,
  sale_starts_at timestamptz not null check (isfinite(sale_starts_at)),
  sale_ends_at timestamptz not null check (isfinite(sale_ends_at)),
  product_id uuid not null unique references treasury.products (id),
  created_at timestamptz not null default now(),
  constraint ticket_tiers_name_key unique (event_id, name),
  constraint ticket_tiers_window_check check (sale_ends_at > sale_starts_at),
  -- The last line of defence against overselling: issued, not void tickets.
  constraint ticket_tiers_sold_check check (seats_sold between 0 and capacity)
);

comment on table concierto.ticket_tiers is
  'What is on sale for an event: a price (minor units of the event currency), a capacity and a sale window. '
  'seats_sold counts the tier''s tickets that are not void (kept by the payment and refund hooks). Each tier is '
  'the Treasury product (type ticket) its payments name, with a split rule from the event''s settings.';

create index ticket_tiers_event_idx on concierto.ticket_tiers (event_id);

create table concierto.staff (
  host_id uuid not null,
  user_id uuid not null,
  added_at timestamptz not null default now(),
  primary key (host_id, user_id)
);

comment on table concierto.staff is
  'Door staff: user_id may validate tickets of every event of host_id. The host is always staff of their own '
  'events without a row. Managed with concierto.add_staff / remove_staff.';

create index staff_user_idx on concierto.staff (user_id);

------------------------------------------------------------------------------
-- Orders and tickets
------------------------------------------------------------------------------

create table concierto.orders (
  id uuid primary key default gen_random_uuid(),
  buyer_id uuid not null,
  event_id uuid not null references concierto.events (id),
  tier_id uuid not null references concierto.ticket_tiers (id),
  product_id uuid not null references treasury.products (id),
  quantity int not null check (quantity between 1 and 10),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  state text not null default 'reserved'
    check (state in ('reserved', 'expired', 'paid', 'refund_due', 'refunded')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  payment_id text unique references treasury.payments (id),
  paid_at timestamptz,
  refunded_minor bigint not null default 0 check (refunded_minor >= 0),
  refund_unvoided int not null default 0 check (refund_unvoided >= 0),
  note text,
  constraint orders_payment_check check ((state in ('reserved', 'expired')) = (payment_id is null))
);

comment on table concierto.orders is
  'A checkout: quantity seats of a tier held for the buyer until expires_at (15 minutes). reserved seats count '
  'against capacity only while unexpired; the pg_cron job concierto-expire-orders marks them expired. A payment '
  'makes the order paid (tickets issued) or, when its seats were sold meanwhile, refund_due (see '
  'concierto.refunds_due); refunded once Stripe refunded it all. refund_unvoided: refunded seats whose tickets '
  'were already admitted, so were not voided.';

create index orders_live_idx on concierto.orders (tier_id, expires_at) where state = 'reserved';
create index orders_expiry_idx on concierto.orders (expires_at) where state = 'reserved';
create index orders_buyer_idx on concierto.orders (buyer_id, created_at desc);

create table public.event_tickets (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references concierto.events (id),
  tier_id uuid not null references concierto.ticket_tiers (id),
  order_id uuid not null references concierto.orders (id),
  seat smallint not null check (seat between 1 and 10),
  owner_id uuid not null,
  state text not null default 'valid' check (state in ('valid', 'redeemed', 'void')),
  version int not null default 1 check (version >= 1),
  issued_at timestamptz not null default now(),
  transferred_at timestamptz,
  redeemed_at timestamptz,
  redeemed_gate text,
  redeemed_by uuid,
  voided_at timestamptz,
  void_reason text check (void_reason in ('refund')),
  constraint event_tickets_seat_key unique (order_id, seat),
  constraint event_tickets_redeemed_check
    check ((state = 'redeemed') = (redeemed_at is not null and redeemed_gate is not null and redeemed_by is not null)),
  constraint event_tickets_void_check check ((state = 'void') = (voided_at is not null and void_reason is not null))
);

comment on table public.event_tickets is
  'Concierto: one ticket per seat of a paid order, owned by the buyer (or whom it was transferred to). valid -> '
  'redeemed (admitted at the door, once) or valid -> void (refunded). version grows with every transfer: a QR '
  'token carries the version, so a transfer kills every earlier token. Only the owner and the event''s staff read it.';

create index event_tickets_owner_idx on public.event_tickets (owner_id, issued_at desc);
create index event_tickets_event_idx on public.event_tickets (event_id, redeemed_at);
create index event_tickets_tier_idx on public.event_tickets (tier_id, state);

create table concierto.scans (
  id bigint generated always as identity primary key,
  nonce text unique check (char_length(nonce) between 1 and 200),
  ticket_id uuid not null,
  version int not null,
  event_id uuid not null references concierto.events (id),
  gate text not null,
  scanned_at timestamptz not null,
  scanned_by uuid not null,
  received_at timestamptz not null default now(),
  result jsonb
);

comment on table concierto.scans is
  'Every scan the door sent (concierto.redeem, concierto.upload_scans) and the answer it got. A scan with a '
  'nonce is applied once: a replay of the nonce gets the stored answer. result is set in the scan''s transaction.';

create index scans_event_idx on concierto.scans (event_id, scanned_at);
create index scans_ticket_idx on concierto.scans (ticket_id);

create table concierto.ticket_transfers (
  id bigint generated always as identity primary key,
  ticket_id uuid not null references public.event_tickets (id),
  version int not null,
  from_user uuid not null,
  to_user uuid not null,
  transferred_at timestamptz not null default now(),
  constraint ticket_transfers_version_key unique (ticket_id, version)
);

comment on table concierto.ticket_transfers is
  'Every transfer of a ticket: version is the ticket''s version after it. The giver and the receiver read it.';

create index ticket_transfers_from_idx on concierto.ticket_transfers (from_user);
create index ticket_transfers_to_idx on concierto.ticket_transfers (to_user);

create table concierto.refunds_due (
  payment_id text primary key references treasury.payments (id),
  order_id uuid references concierto.orders (id),
  buyer_id uuid not null,
  amount_minor bigint not null,
  currency char(3) not null,
  reason text not null,
  refunded_minor bigint not null default 0,
  created_at timestamptz not null default now(),
  resolved_at timestamptz
);

comment on table concierto.refunds_due is
  'Ticket payments Concierto could not honour (the order''s seats were sold after it expired, an unknown or '
  'already paid order, metadata that contradicts the order). No ticket was issued: refund them in Stripe. '
  'refunded_minor follows Stripe''s refunds; resolved_at is set once the whole payment is refunded.';

create index refunds_due_open_idx on concierto.refunds_due (created_at) where resolved_at is null;

------------------------------------------------------------------------------
-- Who is calling
------------------------------------------------------------------------------

-- Superusers, BYPASSRLS roles (service_role) and members of the tables'
-- owner: they manage events for hosts. The caller is the role the session
-- switched to (PostgREST's SET ROLE), which definer functions still see.
create function concierto_private.caller_is_privileged()
returns boolean
language sql
stable
as $$
  select passport_private.caller_is_privileged('concierto.events')
$$;

-- The signed-in user, or 42501 saying what needs one.
create function concierto_private.signed_in(what text)
returns uuid
language plpgsql
stable
as $$
declare
  me uuid := auth.uid();
begin
  if me is null then
    raise exception using
      errcode = '42501',
      message = format('sign in to %s', what),
      hint = 'Call with a user''s access token.';
  end if;
  return me;
end
$$;

-- Whether a user may work the door of a host's events: the host, or staff.
create function concierto_private.is_staff_of(host uuid, who uuid)
returns boolean
language sql
stable
as $$
  select who is not null
     and (who = host or exists (select 1 from concierto.staff as s where s.host_id = host and s.user_id = who))
$$;

-- The event, or P0002.
create function concierto_private.find_event(id uuid)
returns concierto.events
language plpgsql
stable
as $$
declare
  found_event concierto.events;
begin
  select * into found_event from concierto.events as e where e.id = find_event.id;
  if not found then
    raise exception using errcode = 'P0002', message = format('event %s not found', coalesce(id::text, 'null'));
  end if;
  return found_event;
end
$$;

-- The event, when the signed-in user is staff of its host; else 42501.
create function concierto_private.door_event(id uuid, me uuid)
returns concierto.events
language plpgsql
stable
as $$
declare
  ev concierto.events := concierto_private.find_event(id);
begin
  if not concierto_private.is_staff_of(ev.host_id, me) then
    raise exception using
      errcode = '42501',
      message = format('you are not staff of event %s', ev.id),
      hint = 'The host adds door staff with concierto.add_staff.';
  end if;
  return ev;
end
$$;

create function concierto.is_staff(event_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select concierto_private.is_staff_of(e.host_id, auth.uid())
                   from concierto.events as e where e.id = is_staff.event_id), false)
$$;

comment on function concierto.is_staff(uuid) is
  'Whether the signed-in user may validate tickets of the event: its host or the host''s staff. False for anon, '
  'service_role and unknown events.';

------------------------------------------------------------------------------
-- Creating events, tiers and staff
------------------------------------------------------------------------------

create function concierto.create_event(
  host_id uuid,
  title text,
  venue text,
  city text,
  country text,
  starts_at timestamptz,
  doors_at timestamptz,
  currency text,
  split_host_bp int,
  split_artists_bp int,
  split_platform_bp int,
  artist_ids uuid[]
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem text;
  new_id uuid;
begin
  problem := case
    when create_event.host_id is null then 'host_id is required'
    when create_event.title is null or char_length(create_event.title) not between 1 and 200 then
      'title must be a string of 1 to 200 characters'
    when create_event.venue is null or char_length(create_event.venue) not between 1 and 200 then
      'venue must be a string of 1 to 200 characters'
    when create_event.city is null or char_length(create_event.city) not between 1 and 100 then
      'city must be a string of 1 to 100 characters'
    when create_event.country is null or create_event.country !~ '^[A-Z]{2}$' then
      'country must be an ISO 3166-1 alpha-2 code in capitals (NG)'
    when create_event.starts_at is null or not isfinite(create_event.starts_at) then 'starts_at is required'
    when create_event.doors_at is null or not isfinite(create_event.doors_at) then 'doors_at is required'
    when create_event.doors_at > create_event.starts_at then 'doors_at must not be after starts_at'
    when create_event.currency is null or create_event.currency !~ '^[A-Z]{3}$' then
      'currency must be an ISO 4217 code in capitals (EUR)'
    when create_event.split_host_bp is null or create_event.split_host_bp not between 0 and 10000
         or create_event.split_artists_bp is null or create_event.split_artists_bp not between 0 and 10000
         or create_event.split_platform_bp is null or create_event.split_platform_bp not between 0 and 10000 then
      'split_host_bp, split_artists_bp and split_platform_bp must each be 0 to 10000 basis points'
    when create_event.split_host_bp + create_event.split_artists_bp + create_event.split_platform_bp <> 10000 then
      format('the splits sum to %s basis points, not 10000',
             create_event.split_host_bp + create_event.split_artists_bp + create_event.split_platform_bp)
    when coalesce(cardinality(create_event.artist_ids), 0) not between 1 and 50 then
      'artist_ids must name 1 to 50 artists (the headliner first)'
    when array_position(create_event.artist_ids, null) is not null then 'artist_ids must not contain null'
    when (select count(distinct a) from unnest(create_event.artist_ids) as a) <> cardinality(create_event.artist_ids) then
      'artist_ids must not name an artist twice'
  end;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  insert into concierto.events as e
    (host_id, title, venue, city, country, starts_at, doors_at, currency, split_host_bp, split_artists_bp,
     split_platform_bp)
  values
    (create_event.host_id, create_event.title, create_event.venue, create_event.city, create_event.country,
     create_event.starts_at, create_event.doors_at, create_event.currency, create_event.split_host_bp,
     create_event.split_artists_bp, create_event.split_platform_bp)
  returning e.id into new_id;
  insert into concierto.event_artists (event_id, artist_id, position)
  select new_id, a.artist, a.position
  from unnest(create_event.artist_ids) with ordinality as a(artist, position);
  return new_id;
end
$$;

comment on function concierto.create_event(uuid, text, text, text, text, timestamptz, timestamptz, text, int, int, int, uuid[]) is
  'Creates an event for host_id with its lineup (artist_ids, headliner first) and ticket split settings (basis '
  'points summing to 10000); returns its id. For the platform (service_role): the split is agreed with the host. '
  '22023 names the first bad argument.';

-- The split rule of an event's tickets: the host, each lineup artist (equal
-- shares of split_artists_bp, the indivisible rest to the headliner) and the
-- platform, in that order; parties with a zero share are left out.
create function concierto_private.split_parties(ev concierto.events)
returns jsonb
language sql
stable
as $$
  with lineup as (
    select a.artist_id, a.position, count(*) over () as n, row_number() over (order by a.position) as rank
    from concierto.event_artists as a
    where a.event_id = ev.id
  ),
  parties as (
    select 1 as ord, 0 as sub, to_jsonb(ev.host_id) as party_id, 'host' as role, ev.split_host_bp as share_bp
    union all
    select 2, l.rank, to_jsonb(l.artist_id), 'artist',
           (ev.split_artists_bp / l.n + case when l.rank = 1 then ev.split_artists_bp % l.n else 0 end)::int
    from lineup as l
    union all
    select 3, 0, 'null'::jsonb, 'platform', ev.split_platform_bp
  )
  select jsonb_agg(jsonb_build_object('party_id', p.party_id, 'role', p.role, 'share_bp', p.share_bp) order by p.ord, p.sub)
  from parties as p
  where p.share_bp > 0
$$;

create function concierto.create_tier(
  event_id uuid,
  name text,
  price_minor bigint,
  capacity int,
  sale_starts_at timestamptz default now(),
  sale_ends_at timestamptz default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev concierto.events := concierto_private.find_event(create_tier.event_id);
  ends timestamptz := coalesce(create_tier.sale_ends_at, ev.starts_at);
  problem text;
  rule uuid;
  product uuid;
  new_id uuid;
begin
  if not (auth.uid() is not distinct from ev.host_id or concierto_private.caller_is_privileged()) then
    raise exception using
      errcode = '42501',
      message = format('only the host of event %s creates its tiers', ev.id);
  end if;
  problem := case
    when create_tier.name is null or char_length(create_tier.name) not between 1 and 100 then
      'name must be a string of 1 to 100 characters'
    when exists (select 1 from concierto.ticket_tiers as t where t.event_id = ev.id and t.name = create_tier.name) then
      format('event %s has a tier named %s already', ev.id, create_tier.name)
    when create_tier.price_minor is null or create_tier.price_minor <= 0 then
      'price_minor must be an integer > 0 (minor units of the event currency)'
    when create_tier.capacity is null or create_tier.capacity not between 1 and 1000000 then
      'capacity must be 1 to 1000000 seats'
    when create_tier.sale_starts_at is null or not isfinite(create_tier.sale_starts_at) then 'sale_starts_at is required'
    when not isfinite(ends) or ends <= create_tier.sale_starts_at then
      'sale_ends_at (default: the event''s start) must be after sale_starts_at'
  end;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  rule := treasury.define_split_rule(left(format('Concierto: %s / %s', ev.title, create_tier.name), 200),
                                     concierto_private.split_parties(ev));
  -- A host product: the lineup's money is in the split rule, and the sale
  -- reaches the artists' DNA once, through concierto.ticket_purchased.
  insert into treasury.products as p (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
  values ('ticket', left(format('%s: %s', ev.title, create_tier.name), 500), null, ev.host_id, create_tier.price_minor,
          ev.currency, rule)
  returning p.id into product;
  insert into concierto.ticket_tiers as t
    (event_id, name, price_minor, currency, capacity, sale_starts_at, sale_ends_at, product_id)
  values (ev.id, create_tier.name, create_tier.price_minor, ev.currency, create_tier.capacity, create_tier.sale_starts_at,
          ends, product)
  returning t.id into new_id;
  return new_id;
end
$$;

comment on function concierto.create_tier(uuid, text, bigint, int, timestamptz, timestamptz) is
  'Creates a ticket tier (price in minor units of the event currency, capacity, sale window; sale_ends_at '
  'defaults to the event''s start) and its Treasury product with a split rule from the event''s settings; '
  'returns the tier id. For the event''s host or service_role (42501 otherwise); 22023 names a bad argument.';

-- The host a staff change is for: the signed-in host, or any host for
-- privileged callers, who must name it.
create function concierto_private.staff_host(host_id uuid)
returns uuid
language plpgsql
stable
as $$
declare
  me uuid := auth.uid();
begin
  if host_id is null and me is not null then
    return me;
  end if;
  if host_id is not null and (host_id = me or concierto_private.caller_is_privileged()) then
    return host_id;
  end if;
  if host_id is null and concierto_private.caller_is_privileged() then
    raise exception using errcode = '22023', message = 'host_id is required when the caller is not a signed-in host';
  end if;
  raise exception using
    errcode = '42501',
    message = 'a host manages only their own staff',
    hint = 'Leave host_id null to manage yours.';
end
$$;

create function concierto.add_staff(user_id uuid, host_id uuid default null)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  host uuid := concierto_private.staff_host(add_staff.host_id);
begin
  if add_staff.user_id is null then
    raise exception using errcode = '22023', message = 'user_id is required';
  end if;
  insert into concierto.staff (host_id, user_id) values (host, add_staff.user_id) on conflict do nothing;
end
$$;

comment on function concierto.add_staff(uuid, uuid) is
  'Lets user_id validate tickets of every event of the host (the signed-in host; service_role names host_id). '
  'Adding someone twice changes nothing.';

create function concierto.remove_staff(user_id uuid, host_id uuid default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  host uuid := concierto_private.staff_host(remove_staff.host_id);
begin
  delete from concierto.staff as s where s.host_id = host and s.user_id = remove_staff.user_id;
  return found;
end
$$;

comment on function concierto.remove_staff(uuid, uuid) is
  'Takes user_id off the host''s door staff; returns whether they were on it.';

------------------------------------------------------------------------------
-- Reservations
------------------------------------------------------------------------------

-- Seats of a tier held by unexpired reservations, but for one order.
create function concierto_private.held_seats(tier uuid, except_order uuid default null)
returns bigint
language sql
stable
as $$
  select coalesce(sum(o.quantity), 0)
  from concierto.orders as o
  where o.tier_id = tier and o.state = 'reserved' and o.expires_at > now()
    and o.id is distinct from except_order
$$;

create function concierto.availability(event_id uuid)
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
         now() >= t.sale_starts_at and now() < t.sale_ends_at
  from concierto.ticket_tiers as t
  where t.event_id = availability.event_id
  order by t.price_minor, t.name
$$;

comment on function concierto.availability(uuid) is
  'The tiers of an event with the seats still available (capacity less sold tickets and unexpired reservations) '
  'and whether they are on sale now. For everybody.';

create function concierto.reserve(tier_id uuid, quantity int)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('reserve tickets');
  tier concierto.ticket_tiers;
  seats_left bigint;
  new_order concierto.orders;
begin
  if reserve.quantity is null or reserve.quantity not between 1 and 10 then
    raise exception using errcode = '22023',
      message = format('quantity must be 1 to 10 tickets, got %s', coalesce(reserve.quantity::text, 'null'));
  end if;
  -- One reservation of a tier at a time: what is left is read and taken
  -- under this lock, so concurrent buyers never oversell.
  select * into tier from concierto.ticket_tiers as t where t.id = reserve.tier_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('ticket tier %s not found', coalesce(reserve.tier_id::text, 'null'));
  end if;
  if now() < tier.sale_starts_at then
    raise exception using errcode = '55000', detail = 'sale_not_open',
      message = format('tickets of tier %s go on sale at %s', tier.id, tier.sale_starts_at);
  end if;
  if now() >= tier.sale_ends_at then
    raise exception using errcode = '55000', detail = 'sale_closed',
      message = format('the sale of tier %s closed at %s', tier.id, tier.sale_ends_at);
  end if;
  seats_left := tier.capacity - tier.seats_sold - concierto_private.held_seats(tier.id);
  if reserve.quantity > seats_left then
    raise exception using errcode = '55000', detail = 'sold_out',
      message = case when seats_left <= 0 then format('tier %s is sold out', tier.id)
                     else format('tier %s has %s tickets left, %s asked', tier.id, seats_left, reserve.quantity) end,
      hint = 'Seats held by checkouts come back when they expire (15 minutes).';
  end if;

  insert into concierto.orders as o (buyer_id, event_id, tier_id, product_id, quantity, amount_minor, currency, expires_at)
  values (me, tier.event_id, tier.id, tier.product_id, reserve.quantity, tier.price_minor * reserve.quantity, tier.currency,
          now() + interval '15 minutes')
  returning * into new_order;
  return jsonb_build_object(
    'order_id', new_order.id,
    'expires_at', new_order.expires_at,
    'product_id', new_order.product_id,
    'amount_minor', new_order.amount_minor,
    'currency', new_order.currency,
    -- Stripe metadata values are strings.
    'metadata', jsonb_build_object(
      'product_id', new_order.product_id::text,
      'buyer_id', me::text,
      'quantity', new_order.quantity::text,
      'event_id', new_order.event_id::text,
      'tier_id', new_order.tier_id::text,
      'order_id', new_order.id::text));
end
$$;

comment on function concierto.reserve(uuid, int) is
  'Holds quantity (1..10) seats of a tier for the signed-in buyer for 15 minutes and returns {order_id, '
  'expires_at, product_id, amount_minor, currency, metadata}: put metadata on the Stripe Checkout Session and its '
  'PaymentIntent. 55000 with DETAIL sold_out / sale_not_open / sale_closed; 22023 bad quantity; P0002 unknown '
  'tier; 42501 without a user.';

create function concierto_private.expire_orders(max_orders int default 10000)
returns int
language plpgsql
volatile
as $$
declare
  expired int;
begin
  update concierto.orders as o
  set state = 'expired'
  where o.id in (select x.id from concierto.orders as x
                 where x.state = 'reserved' and x.expires_at <= now()
                 order by x.expires_at
                 limit max_orders
                 for update skip locked);
  get diagnostics expired = row_count;
  return expired;
end
$$;

select cron.schedule('concierto-expire-orders', '* * * * *', 'select concierto_private.expire_orders()');

------------------------------------------------------------------------------
-- Payments and refunds (Treasury's hooks)
------------------------------------------------------------------------------

-- Records a ticket payment Concierto cannot honour, for an operator to refund.
create function concierto_private.refund_due(pay treasury.payments, order_id uuid, reason text)
returns void
language sql
volatile
as $$
  insert into concierto.refunds_due (payment_id, order_id, buyer_id, amount_minor, currency, reason)
  values (pay.id, order_id, pay.buyer_id, pay.amount_minor, pay.currency, reason)
  on conflict (payment_id) do nothing
$$;

-- Issues the tickets of a paid order in the payment's transaction: the order
-- named by the metadata of the event that recorded the payment. A payment
-- without order_id is no Concierto order. Problems are recorded in
-- concierto.refunds_due, never raised: Stripe would retry the event forever.
create function concierto_private.pay_order(payment_id text)
returns void
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  ref text;
  o concierto.orders;
  tier concierto.ticket_tiers;
  ev concierto.events;
  problem text;
  headliner uuid;
begin
  select * into pay from treasury.payments as p where p.id = pay_order.payment_id;
  select nullif(e.payload -> 'data' -> 'object' -> 'metadata' ->> 'order_id', '') into ref
  from treasury.stripe_events as e where e.event_id = pay.stripe_event_id;
  if ref is null then
    return;
  end if;

  select * into o from concierto.orders as x where x.id = treasury_private.as_uuid(ref) for update;
  problem := case
    when o.id is null then format('metadata.order_id %s is not an order', ref)
    when o.payment_id is not null then format('order %s was paid by %s already', o.id, o.payment_id)
    when pay.buyer_id <> o.buyer_id then format('buyer %s is not the buyer of order %s', pay.buyer_id, o.id)
    when pay.product_id <> o.product_id then format('product %s is not the product of order %s', pay.product_id, o.id)
    when pay.tier_id is distinct from o.tier_id and pay.tier_id is not null then
      format('tier %s is not the tier of order %s', pay.tier_id, o.id)
    when pay.quantity <> o.quantity then format('quantity %s is not the %s seats of order %s', pay.quantity, o.quantity, o.id)
    when pay.currency <> o.currency then format('currency %s is not the %s of order %s', pay.currency, o.currency, o.id)
  end;
  if problem is not null then
    perform concierto_private.refund_due(pay, o.id, problem);
    return;
  end if;

  -- A live reservation holds its seats; an expired one is paid only when its
  -- seats are still free. Under the tier's lock, like reserve.
  select * into tier from concierto.ticket_tiers as t where t.id = o.tier_id for update;
  if tier.seats_sold + concierto_private.held_seats(tier.id, o.id) + o.quantity > tier.capacity then
    problem := format('sold_out: order %s expired at %s and its seats were sold before payment %s arrived',
                      o.id, o.expires_at, pay.id);
    update concierto.orders as x set state = 'refund_due', payment_id = pay.id, paid_at = pay.paid_at, note = problem
    where x.id = o.id;
    perform concierto_private.refund_due(pay, o.id, problem);
    return;
  end if;

  update concierto.orders as x set state = 'paid', payment_id = pay.id, paid_at = pay.paid_at where x.id = o.id;
  update concierto.ticket_tiers as t set seats_sold = t.seats_sold + o.quantity where t.id = tier.id;
  insert into public.event_tickets (event_id, tier_id, order_id, seat, owner_id)
  select o.event_id, o.tier_id, o.id, s, o.buyer_id
  from generate_series(1, o.quantity) as s;

  select * into ev from concierto.events as e where e.id = o.event_id;
  select a.artist_id into headliner from concierto.event_artists as a where a.event_id = ev.id order by a.position limit 1;
  perform passport.log(o.buyer_id, 'concierto.ticket_purchased', 'concierto:order:' || o.id || ':purchased',
    jsonb_build_object('event_id', ev.id, 'tier_id', o.tier_id, 'quantity', o.quantity, 'amount_minor', pay.amount_minor,
                       'currency', pay.currency, 'city', ev.city, 'country', ev.country),
    headliner, least(pay.paid_at, now()), 'concierto');
  perform passport.log(o.buyer_id, 'concierto.ticket_issued', 'concierto:ticket:' || k.id || ':issued',
    jsonb_build_object('event_id', ev.id, 'ticket_id', k.id), null, least(pay.paid_at, now()), 'concierto')
  from public.event_tickets as k
  where k.order_id = o.id
  order by k.seat;
end
$$;

-- Voids the tickets a refund pays back: floor(refunded total x seats / amount
-- paid) of them in all, valid ones only, those still held by the buyer first,
-- newest seat first. A refunded seat whose ticket was admitted already is
-- counted in refund_unvoided instead. Voided seats go back on sale.
create function concierto_private.refund_order(payment_id text, refunded_total bigint)
returns void
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  o concierto.orders;
  target int;
  needed int;
  voided int;
  total_voided int := 0;
begin
  update concierto.refunds_due as r
  set refunded_minor = greatest(r.refunded_minor, refunded_total),
      resolved_at = case when refunded_total >= r.amount_minor then coalesce(r.resolved_at, now()) end
  where r.payment_id = refund_order.payment_id;

  select * into o from concierto.orders as x where x.payment_id = refund_order.payment_id for update;
  if not found then
    return;
  end if;
  select * into pay from treasury.payments as p where p.id = refund_order.payment_id;
  update concierto.orders as x
  set refunded_minor = greatest(x.refunded_minor, refunded_total),
      state = case when refunded_total >= pay.amount_minor then 'refunded' else x.state end
  where x.id = o.id;
  if o.state <> 'paid' then
    return;
  end if;

  target := least(o.quantity, floor(refunded_total::numeric * o.quantity / pay.amount_minor))::int;
  select (target - count(*) - o.refund_unvoided)::int into needed
  from public.event_tickets as k where k.order_id = o.id and k.void_reason = 'refund';
  -- A ticket admitted while we wait for its lock drops out of the batch;
  -- take the next one until enough are void or none is valid.
  while needed > 0 loop
    with picked as (
      select k.id from public.event_tickets as k
      where k.order_id = o.id and k.state = 'valid'
      order by k.owner_id = o.buyer_id desc, k.seat desc
      limit needed
      for update
    )
    update public.event_tickets as k
    set state = 'void', voided_at = now(), void_reason = 'refund'
    from picked
    where k.id = picked.id;
    get diagnostics voided = row_count;
    exit when voided = 0;
    needed := needed - voided;
    total_voided := total_voided + voided;
  end loop;

  if total_voided > 0 then
    update concierto.ticket_tiers as t set seats_sold = t.seats_sold - total_voided where t.id = o.tier_id;
  end if;
  if needed > 0 then
    update concierto.orders as x set refund_unvoided = x.refund_unvoided + needed where x.id = o.id;
  end if;
end
$$;

create or replace function treasury_private.after_payment(payment_id text)
returns void
language plpgsql
volatile
as $$
begin
  perform concierto_private.pay_order(payment_id);
end
$$;

comment on function treasury_private.after_payment(text) is
  'Hook: runs after a new payment is recorded, in its transaction. Concierto issues the tickets of the order its '
  'metadata names (concierto_private.pay_order).';

create or replace function treasury_private.after_refund(payment_id text, refunded_total bigint)
returns void
language plpgsql
volatile
as $$
begin
  perform concierto_private.refund_order(payment_id, refunded_total);
end
$$;

comment on function treasury_private.after_refund(text, bigint) is
  'Hook: runs after a payment''s refunded total grows to refunded_total, in its transaction. Concierto voids the '
  'refunded tickets (concierto_private.refund_order).';

------------------------------------------------------------------------------
-- Tokens and the door
------------------------------------------------------------------------------

create function concierto.ticket_for_token(ticket_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('show a ticket');
  t public.event_tickets;
begin
  select * into t from public.event_tickets as k where k.id = ticket_for_token.ticket_id;
  if not found then
    raise exception using errcode = 'P0002', detail = 'unknown_ticket',
      message = format('ticket %s not found', coalesce(ticket_for_token.ticket_id::text, 'null'));
  end if;
  if t.owner_id <> me then
    raise exception using errcode = '42501', detail = 'not_owner',
      message = format('ticket %s is not yours', t.id);
  end if;
  if t.state = 'void' then
    raise exception using errcode = '55000', detail = 'void_ticket',
      message = format('ticket %s is void (%s)', t.id, t.void_reason);
  end if;
  return jsonb_build_object('ticket_id', t.id, 'version', t.version, 'event_id', t.event_id, 'state', t.state);
end
$$;

comment on function concierto.ticket_for_token(uuid) is
  'What the ticket-token edge function signs: {ticket_id, version, event_id, state} of a ticket of the signed-in '
  'user. 42501 (DETAIL not_owner) for anyone else, P0002 unknown_ticket, 55000 void_ticket.';

create function concierto_private.refused(code text)
returns jsonb
language sql
immutable
as $$
  select jsonb_build_object('status', 'refused', 'code', code)
$$;

-- The door's decision for one scan. First scan wins: the UPDATE admits only
-- a valid ticket of this version and event, and a concurrent second scan
-- waits on the row, then finds it redeemed. An admission logs
-- concierto.ticket_validated for the holder and concierto.event_attended
-- for each lineup artist (once per fan and event), in this transaction.
create function concierto_private.admit(staff uuid, ticket uuid, token_version int, at_event uuid, gate text, scanned_at timestamptz)
returns jsonb
language plpgsql
volatile
as $$
declare
  t public.event_tickets;
  ev concierto.events;
  logged_at timestamptz := least(scanned_at, now());
begin
  update public.event_tickets as k
  set state = 'redeemed', redeemed_at = admit.scanned_at, redeemed_gate = admit.gate, redeemed_by = staff
  where k.id = ticket and k.state = 'valid' and k.version = token_version and k.event_id = at_event
  returning * into t;
  if found then
    select * into ev from concierto.events as e where e.id = t.event_id;
    perform passport.log(t.owner_id, 'concierto.ticket_validated', 'concierto:ticket:' || t.id || ':validated',
      jsonb_build_object('event_id', ev.id, 'ticket_id', t.id, 'gate', t.redeemed_gate, 'city', ev.city,
                         'country', ev.country),
      null, logged_at, 'concierto');
    perform passport.log(t.owner_id, 'concierto.event_attended', 'concierto:event:' || ev.id || ':attended:' || a.artist_id,
      jsonb_build_object('event_id', ev.id, 'city', ev.city, 'country', ev.country), a.artist_id, logged_at, 'concierto')
    from concierto.event_artists as a
    where a.event_id = ev.id
    order by a.position;
    return jsonb_build_object('status', 'admitted', 'ticket_id', t.id, 'at', t.redeemed_at, 'gate', t.redeemed_gate);
  end if;

  select * into t from public.event_tickets as k where k.id = ticket;
  if not found then
    return concierto_private.refused('unknown_ticket');
  elsif t.event_id <> at_event then
    return concierto_private.refused('wrong_event');
  elsif t.state = 'void' then
    return concierto_private.refused('void_ticket');
  elsif t.version <> token_version then
    return concierto_private.refused('old_version');
  elsif t.state = 'redeemed' then
    return jsonb_build_object('status', 'already_admitted', 'at', t.redeemed_at, 'gate', t.redeemed_gate);
  end if;
  -- Valid, this version and event, yet not updated: a change we could not
  -- see committed in between. The caller retries.
  raise exception using errcode = '40001', message = format('ticket %s changed during the scan; retry', t.id);
end
$$;

-- Records a scan and answers it. A nonce seen before gets the stored answer
-- (the INSERT is the gate: a concurrent replay waits on the unique index),
-- unless it came with a different scan: then nonce_reused.
create function concierto_private.scan(
  staff uuid, ticket uuid, token_version int, at_event uuid, gate text, scanned_at timestamptz, nonce text)
returns jsonb
language plpgsql
volatile
as $$
declare
  scan_id bigint;
  prior concierto.scans;
  answer jsonb;
begin
  insert into concierto.scans as s (nonce, ticket_id, version, event_id, gate, scanned_at, scanned_by)
  values (nonce, ticket, token_version, at_event, gate, scanned_at, staff)
  on conflict on constraint scans_nonce_key do nothing
  returning s.id into scan_id;
  if scan_id is null then
    select * into prior from concierto.scans as s where s.nonce = scan.nonce;
    if (prior.ticket_id, prior.version, prior.event_id, prior.gate, prior.scanned_at)
       is not distinct from (ticket, token_version, at_event, gate, scanned_at) then
      return prior.result;
    end if;
    return concierto_private.refused('nonce_reused');
  end if;
  answer := concierto_private.admit(staff, ticket, token_version, at_event, gate, scanned_at);
  update concierto.scans as s set result = answer where s.id = scan_id;
  return answer;
end
$$;

-- What is wrong with a scan's gate, time or nonce; null when nothing.
create function concierto_private.scan_problem(gate text, scanned_at timestamptz, nonce text, nonce_required boolean)
returns text
language sql
stable
as $$
  select case
    when gate is null or char_length(gate) not between 1 and 100 then 'gate must be a string of 1 to 100 characters'
    when scanned_at is null or not isfinite(scanned_at) then 'scanned_at must be a timestamp'
    when scanned_at > now() + interval '5 minutes' then 'scanned_at must not be in the future'
    when nonce is null and nonce_required then 'nonce is required'
    when char_length(nonce) not between 1 and 200 then 'nonce must be a string of 1 to 200 characters'
  end
$$;

create function concierto.redeem(
  ticket_id uuid,
  version int,
  event_id uuid,
  gate text,
  scanned_at timestamptz default now(),
  nonce text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('validate tickets');
  ev concierto.events;
  problem text := concierto_private.scan_problem(redeem.gate, redeem.scanned_at, redeem.nonce, false);
begin
  if redeem.ticket_id is null or redeem.version is null or redeem.event_id is null then
    problem := 'ticket_id, version and event_id are required';
  end if;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;
  ev := concierto_private.door_event(redeem.event_id, me);
  return concierto_private.scan(me, redeem.ticket_id, redeem.version, ev.id, redeem.gate, redeem.scanned_at, redeem.nonce);
end
$$;

comment on function concierto.redeem(uuid, int, uuid, text, timestamptz, text) is
  'Admits a ticket at the door of event_id, once: {"status": "admitted", "ticket_id", "at", "gate"}, '
  '{"status": "already_admitted", "at", "gate"} (the first scan''s), or {"status": "refused", "code": '
  'old_version | wrong_event | void_ticket | unknown_ticket | nonce_reused}. For the event host''s staff (42501 '
  'otherwise; P0002 unknown event). With a nonce a replay gets the first answer.';

create function concierto.upload_scans(scans jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('upload scans');
  problem text;
  answers jsonb[];
  s record;
  answer jsonb;
begin
  if jsonb_typeof(upload_scans.scans) is distinct from 'array' or jsonb_array_length(upload_scans.scans) not between 1 and 500 then
    raise exception using errcode = '22023',
      message = 'scans must be a JSON array of 1 to 500 {"ticket_id", "version", "event_id", "gate", "scanned_at", "nonce"}';
  end if;
  select format('scans[%s]: %s', x.idx - 1, case
      when jsonb_typeof(x.scan) <> 'object' then 'must be an object'
      when treasury_private.as_uuid(x.scan ->> 'ticket_id') is null then 'ticket_id must be a UUID'
      when treasury_private.json_bigint(x.scan -> 'version') is null
           or treasury_private.json_bigint(x.scan -> 'version') not between 1 and 2147483647 then
        'version must be an integer >= 1'
      when treasury_private.as_uuid(x.scan ->> 'event_id') is null then 'event_id must be a UUID'
      when jsonb_typeof(x.scan -> 'gate') is distinct from 'string' then 'gate must be a string of 1 to 100 characters'
      when jsonb_typeof(x.scan -> 'scanned_at') is distinct from 'string'
           or passport_private.parse_rfc3339(x.scan ->> 'scanned_at') is null then 'scanned_at must be an RFC 3339 timestamp'
      when jsonb_typeof(x.scan -> 'nonce') is distinct from 'string' then 'nonce must be a string of 1 to 200 characters'
      else concierto_private.scan_problem(x.scan ->> 'gate', passport_private.parse_rfc3339(x.scan ->> 'scanned_at'),
                                          x.scan ->> 'nonce', true)
    end)
  into problem
  from jsonb_array_elements(upload_scans.scans) with ordinality as x(scan, idx)
  where jsonb_typeof(x.scan) <> 'object'
     or treasury_private.as_uuid(x.scan ->> 'ticket_id') is null
     or treasury_private.json_bigint(x.scan -> 'version') is null
     or treasury_private.json_bigint(x.scan -> 'version') not between 1 and 2147483647
     or treasury_private.as_uuid(x.scan ->> 'event_id') is null
     or jsonb_typeof(x.scan -> 'gate') is distinct from 'string'
     or jsonb_typeof(x.scan -> 'scanned_at') is distinct from 'string'
     or passport_private.parse_rfc3339(x.scan ->> 'scanned_at') is null
     or jsonb_typeof(x.scan -> 'nonce') is distinct from 'string'
     or concierto_private.scan_problem(x.scan ->> 'gate', passport_private.parse_rfc3339(x.scan ->> 'scanned_at'),
                                       x.scan ->> 'nonce', true) is not null
  order by x.idx
  limit 1;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  -- Every event named must be one the caller works, before anything is applied.
  perform concierto_private.door_event(e.id, me)
  from (select distinct (x.scan ->> 'event_id')::uuid as id from jsonb_array_elements(upload_scans.scans) as x(scan)) as e;

  -- Applied in ticket order (then scan time), so uploads that share tickets
  -- lock them in one order and never deadlock, and the earliest scan of a
  -- ticket is the one admitted; answered in the order sent.
  answers := array_fill(null::jsonb, array[jsonb_array_length(upload_scans.scans)]);
  for s in
    select x.idx, (x.scan ->> 'ticket_id')::uuid as ticket_id, (x.scan ->> 'version')::int as version,
           (x.scan ->> 'event_id')::uuid as event_id, x.scan ->> 'gate' as gate,
           passport_private.parse_rfc3339(x.scan ->> 'scanned_at') as scanned_at, x.scan ->> 'nonce' as nonce
    from jsonb_array_elements(upload_scans.scans) with ordinality as x(scan, idx)
    order by 2, 6, 7
  loop
    answer := concierto_private.scan(me, s.ticket_id, s.version, s.event_id, s.gate, s.scanned_at, s.nonce);
    answers[s.idx::int] := jsonb_build_object('nonce', s.nonce, 'ticket_id', s.ticket_id) || answer;
  end loop;

  return jsonb_build_object(
    'results', to_jsonb(answers),
    'admitted', (select count(*) from unnest(answers) as a where a ->> 'status' = 'admitted'),
    'already_admitted', (select count(*) from unnest(answers) as a where a ->> 'status' = 'already_admitted'),
    'refused', (select count(*) from unnest(answers) as a where a ->> 'status' = 'refused'));
end
$$;

comment on function concierto.upload_scans(jsonb) is
  'Applies the scans an offline door queued ([{"ticket_id", "version", "event_id", "gate", "scanned_at", '
  '"nonce"}], 1..500): {"results": [{"nonce", "ticket_id", "status", ...} in the order sent], "admitted", '
  '"already_admitted" (conflicts: the ticket was admitted by another scan, whose time and gate are given), '
  '"refused"}. Idempotent by nonce: a replay answers exactly as the first upload. For the staff of every event '
  'named (42501); 22023 names the first malformed scan.';

------------------------------------------------------------------------------
-- Transfers
------------------------------------------------------------------------------

create function concierto.transfer_ticket(ticket_id uuid, to_user uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('transfer a ticket');
  t public.event_tickets;
begin
  if transfer_ticket.to_user is null then
    raise exception using errcode = '22023', message = 'to_user is required';
  end if;
  select * into t from public.event_tickets as k where k.id = transfer_ticket.ticket_id for update;
  if not found then
    raise exception using errcode = 'P0002', detail = 'unknown_ticket',
      message = format('ticket %s not found', coalesce(transfer_ticket.ticket_id::text, 'null'));
  end if;
  if t.owner_id <> me then
    raise exception using errcode = '42501', detail = 'not_owner', message = format('ticket %s is not yours', t.id);
  end if;
  if transfer_ticket.to_user = me then
    raise exception using errcode = '22023', message = 'the ticket is yours already';
  end if;
  if t.state <> 'valid' then
    raise exception using errcode = '55000', detail = case t.state when 'void' then 'void_ticket' else 'redeemed_ticket' end,
      message = format('ticket %s is %s and cannot be transferred', t.id, t.state);
  end if;

  update public.event_tickets as k
  set owner_id = transfer_ticket.to_user, version = k.version + 1, transferred_at = now()
  where k.id = t.id
  returning * into t;
  insert into concierto.ticket_transfers (ticket_id, version, from_user, to_user)
  values (t.id, t.version, me, t.owner_id);
  perform passport.log(me, 'concierto.ticket_transferred', 'concierto:ticket:' || t.id || ':transferred:' || t.version,
    jsonb_build_object('event_id', t.event_id, 'ticket_id', t.id, 'to_user_id', t.owner_id), null, now(), 'concierto');
  return jsonb_build_object('ticket_id', t.id, 'version', t.version, 'event_id', t.event_id, 'owner_id', t.owner_id);
end
$$;

comment on function concierto.transfer_ticket(uuid, uuid) is
  'Gives a valid ticket of the signed-in user to to_user: the owner changes and the version grows by one, so '
  'every token signed before is refused (old_version). Returns {ticket_id, version, event_id, owner_id}. 42501 '
  'not_owner, P0002 unknown_ticket, 55000 void_ticket / redeemed_ticket, 22023 no or the same user.';

------------------------------------------------------------------------------
-- Host stats
------------------------------------------------------------------------------

create function concierto.host_stats(event_id uuid)
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
  'An event''s figures: per tier {tier_id, name, capacity, sold (tickets not void), issued, redeemed, void, '
  'reserved (unexpired checkouts), available} and check-ins per 5 minutes [{at, count}]. For the host, their '
  'staff, Treasury admins and service_role (42501 otherwise); P0002 unknown event.';

------------------------------------------------------------------------------
-- Who may read and call what. Everything changes through the functions
-- above; the API roles read under row level security: events, lineups and
-- tiers are public, a ticket is read by its owner and the event's staff, an
-- order by its buyer; service_role bypasses RLS.
------------------------------------------------------------------------------

alter table concierto.events enable row level security;
alter table concierto.event_artists enable row level security;
alter table concierto.ticket_tiers enable row level security;
alter table concierto.staff enable row level security;
alter table concierto.orders enable row level security;
alter table public.event_tickets enable row level security;
alter table concierto.scans enable row level security;
alter table concierto.ticket_transfers enable row level security;
alter table concierto.refunds_due enable row level security;

-- Supabase grants the API roles everything on new tables in public.
revoke all on public.event_tickets from anon, authenticated, service_role;

grant select on concierto.events, concierto.event_artists, concierto.ticket_tiers to anon, authenticated, service_role;
create policy events_are_public on concierto.events for select to anon, authenticated using (true);
create policy event_artists_are_public on concierto.event_artists for select to anon, authenticated using (true);
create policy ticket_tiers_are_public on concierto.ticket_tiers for select to anon, authenticated using (true);

grant select on concierto.staff, concierto.orders, public.event_tickets, concierto.scans, concierto.ticket_transfers,
  concierto.refunds_due to authenticated, service_role;

create policy staff_host_or_member_reads on concierto.staff
  for select to authenticated using (host_id = (select auth.uid()) or user_id = (select auth.uid()));
create policy orders_buyer_reads on concierto.orders
  for select to authenticated using (buyer_id = (select auth.uid()));
-- The events the caller works: hosted, or of a host whose staff they are
-- (the staff rows naming them are visible to them).
create policy event_tickets_owner_or_staff_reads on public.event_tickets
  for select to authenticated using (
    owner_id = (select auth.uid())
    or event_id in (select e.id from concierto.events as e
                    where e.host_id = (select auth.uid())
                       or e.host_id in (select s.host_id from concierto.staff as s where s.user_id = (select auth.uid()))));
create policy scans_staff_reads on concierto.scans
  for select to authenticated using (
    event_id in (select e.id from concierto.events as e
                 where e.host_id = (select auth.uid())
                    or e.host_id in (select s.host_id from concierto.staff as s where s.user_id = (select auth.uid()))));
create policy ticket_transfers_party_reads on concierto.ticket_transfers
  for select to authenticated using (from_user = (select auth.uid()) or to_user = (select auth.uid()));
create policy refunds_due_admin_reads on concierto.refunds_due
  for select to authenticated using ((select treasury.is_admin()));

-- Functions in this schema start with no grant (foundation migration).
grant execute on function concierto.create_event(uuid, text, text, text, text, timestamptz, timestamptz, text, int, int, int, uuid[])
  to service_role;
grant execute on function concierto.create_tier(uuid, text, bigint, int, timestamptz, timestamptz) to authenticated, service_role;
grant execute on function concierto.add_staff(uuid, uuid) to authenticated, service_role;
grant execute on function concierto.remove_staff(uuid, uuid) to authenticated, service_role;
grant execute on function concierto.is_staff(uuid) to anon, authenticated, service_role;
grant execute on function concierto.availability(uuid) to anon, authenticated, service_role;
grant execute on function concierto.reserve(uuid, int) to authenticated;
grant execute on function concierto.ticket_for_token(uuid) to authenticated;
grant execute on function concierto.redeem(uuid, int, uuid, text, timestamptz, text) to authenticated;
grant execute on function concierto.upload_scans(jsonb) to authenticated;
grant execute on function concierto.transfer_ticket(uuid, uuid) to authenticated;
grant execute on function concierto.host_stats(uuid) to authenticated, service_role;
