-- Concierto: hosts run their own events (issue 14). A verified host (people.has_role('host')) creates an
-- event as a draft, edits it, invites its lineup with each artist's proposed share, publishes it once every
-- artist accepted and the split sums to 10000 bp, and may cancel it (tickets void, reservations released,
-- paid orders refunded through Treasury's refund requests). Free events take RSVPs up to a capacity; an
-- event may take artist applications (an open call). docs/concierto.md, "Hosts run their events".
--
--   concierto.settings              the platform's share of ticket revenue for host-made events (one row)
--   concierto.events                + state (draft | published | cancelled), rsvp_capacity, takes_applications,
--                                     published_at, updated_at, cancelled_at / cancelled_by / cancel_reason
--   concierto.event_artists         + share_bp (the artist's own share), state (invited | accepted | declined),
--                                     revision (grows with every change of billing or share), responded_at
--   concierto.ticket_tiers          + removed_at; product_id null until the event is published
--   concierto.event_rsvp            who said they will come to a free event (going | cancelled)
--   concierto.artist_applications   artists applying to an event's open call (applied | accepted | declined)
--
-- This step holds tables, columns and data. Its functions, policies and grants live in sql/concierto/,
-- one file per object (docs/database-sources.md), and the generated step installs them, as
-- sql/manifest.txt lists:
-- 20261203110010_concierto_hosts_code.sql              after it

------------------------------------------------------------------------------
-- The platform's share
------------------------------------------------------------------------------

create table concierto.settings (
  id boolean primary key default true check (id),
  platform_share_bp int not null check (platform_share_bp between 0 and 10000),
  updated_at timestamptz not null default now()
);

comment on table concierto.settings is
  'Concierto: the platform''s settings, one row. platform_share_bp is the platform''s share of the ticket revenue '
  'of every event a host creates (events created by the platform name their own split). Changed by the platform '
  '(service_role); readable by everybody.';

insert into concierto.settings (platform_share_bp) values (1000);

------------------------------------------------------------------------------
-- Events: drafts, publication, cancellation, RSVPs, open calls
------------------------------------------------------------------------------

-- Every existing event was created by the platform and is on sale: published.
alter table concierto.events
  add column state text not null default 'published' check (state in ('draft', 'published', 'cancelled')),
  add column rsvp_capacity int check (rsvp_capacity between 1 and 1000000),
  add column takes_applications boolean not null default false,
  add column published_at timestamptz,
  add column updated_at timestamptz not null default now(),
  add column cancelled_at timestamptz,
  add column cancelled_by uuid,
  add column cancel_reason text check (char_length(cancel_reason) between 1 and 500),
  add constraint events_cancelled_check check ((state = 'cancelled') = (cancelled_at is not null));

update concierto.events set published_at = created_at;

-- A draft's split is a proposal; what went on sale sums to 10000.
alter table concierto.events
  drop constraint events_split_check,
  add constraint events_split_check
    check (published_at is null or split_host_bp + split_artists_bp + split_platform_bp = 10000),
  add constraint events_published_check check (state <> 'published' or published_at is not null),
  add constraint events_split_total_check check (split_host_bp + split_artists_bp + split_platform_bp <= 10000);

comment on column concierto.events.state is
  'draft (a host''s, visible to the host, the lineup and, with takes_applications, everybody; not on sale), '
  'published (on sale: every lineup artist accepted, the split sums to 10000) or cancelled (tickets void, '
  'paid orders refunded).';
comment on column concierto.events.rsvp_capacity is
  'A free event: how many users may RSVP (concierto.rsvp). Null: the event sells tickets instead.';
comment on column concierto.events.takes_applications is
  'An open call: artists may apply to play (concierto.apply_to_event) while the event is a draft.';
comment on column concierto.events.split_artists_bp is
  'The lineup''s part of the split: the sum of concierto.event_artists.share_bp.';

create index events_draft_idx on concierto.events (host_id) where state = 'draft';

------------------------------------------------------------------------------
-- The lineup: each artist's share and answer
------------------------------------------------------------------------------

alter table concierto.event_artists
  add column share_bp int check (share_bp between 0 and 10000),
  add column state text not null default 'accepted' check (state in ('invited', 'accepted', 'declined')),
  add column revision int not null default 1 check (revision >= 1),
  add column invited_at timestamptz not null default now(),
  add column responded_at timestamptz;

-- Platform-made events split split_artists_bp equally, the indivisible rest to the headliner
-- (what concierto_private.split_parties computed until now): the same shares, stored.
update concierto.event_artists as a
set share_bp = e.split_artists_bp / n.n + case when a.position = n.first then e.split_artists_bp % n.n else 0 end
from concierto.events as e,
     lateral (select count(*)::int as n, min(x.position) as first
              from concierto.event_artists as x where x.event_id = e.id) as n
where e.id = a.event_id;

alter table concierto.event_artists alter column share_bp set not null;

comment on column concierto.event_artists.share_bp is
  'The artist''s share of the event''s ticket revenue, in basis points (the host proposes it, the artist accepts it).';
comment on column concierto.event_artists.state is
  'invited (waiting for the artist), accepted or declined. A change of billing or share by the host sets it back '
  'to invited.';
comment on column concierto.event_artists.revision is
  'Grows with every change of the artist''s billing or share: the invitation the artist answers.';

create index event_artists_invited_idx on concierto.event_artists (artist_id) where state = 'invited';

------------------------------------------------------------------------------
-- Tiers: editable while unsold, removable, a product once published
------------------------------------------------------------------------------

alter table concierto.ticket_tiers
  alter column product_id drop not null,
  add column removed_at timestamptz;

comment on column concierto.ticket_tiers.product_id is
  'The tier''s Treasury product; null while the event is a draft (the split is final only at publication).';
comment on column concierto.ticket_tiers.removed_at is
  'The host removed the tier before it sold anything: not on sale, not listed by availability.';

------------------------------------------------------------------------------
-- Tickets voided by a cancellation; reservations released by it
------------------------------------------------------------------------------

alter table public.event_tickets
  drop constraint event_tickets_void_reason_check,
  add constraint event_tickets_void_reason_check check (void_reason in ('refund', 'cancelled'));

------------------------------------------------------------------------------
-- RSVPs
------------------------------------------------------------------------------

create table concierto.event_rsvp (
  event_id uuid not null references concierto.events (id),
  user_id uuid not null,
  state text not null default 'going' check (state in ('going', 'cancelled')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (event_id, user_id)
);

comment on table concierto.event_rsvp is
  'Concierto: a user''s RSVP to a free event (going, or cancelled by them). At most rsvp_capacity are going: '
  'concierto.rsvp counts them under the event''s row lock. The user reads their own; the host reads counts '
  'through concierto.host_stats.';

create index event_rsvp_user_idx on concierto.event_rsvp (user_id, created_at desc);
create index event_rsvp_going_idx on concierto.event_rsvp (event_id) where state = 'going';

------------------------------------------------------------------------------
-- Open calls
------------------------------------------------------------------------------

create table concierto.artist_applications (
  event_id uuid not null references concierto.events (id),
  artist_id uuid not null,
  state text not null default 'applied' check (state in ('applied', 'accepted', 'declined')),
  note text check (char_length(note) between 1 and 1000),
  applied_at timestamptz not null default now(),
  decided_at timestamptz,
  primary key (event_id, artist_id),
  check ((state = 'applied') = (decided_at is null))
);

comment on table concierto.artist_applications is
  'Concierto: artists applying to play an event that takes applications (an open call). The host accepts (the '
  'artist joins the lineup as invited) or declines. The artist and the host read them.';

create index artist_applications_artist_idx on concierto.artist_applications (artist_id, applied_at desc);
