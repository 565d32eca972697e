-- People (issue 14): who a user is to the platform, and what the platform tells them.
--
--   people.role_grants              the roles a user was given (artist, host), with who granted and revoked them
--   people.notification_kinds       every kind of in-app notification (reference data)
--   people.notifications            one inbox per user, fed by every system, in the realtime publication
--   people.notification_preferences a user's choice per kind (absent: the kind's default)
--
--   people.has_role(role, user_id)   whether a user holds a role: fan (every signed-in user), artist and host
--                                    (granted, not revoked), brand (a member of a Companon brand), admin
--                                    (treasury.admins): one answer for every system that asks
--   people_private.notify(...)       how a system puts a notification in a user's inbox (preferences applied,
--                                    a retry with the same dedupe key answered once)
--
-- Profiles, the grant and revoke calls, the inbox calls and the feeds from each system are built on these
-- (docs/people.md). Nobody writes these tables directly from the app: everything goes through functions.
--
-- This step holds tables, indexes, data and the publication change. Its functions, policies and grants live
-- in sql/people/, one file per object (docs/database-sources.md), and the generated step installs them, as
-- sql/manifest.txt lists:
-- 20261203101010_people_code.sql                       after it

create schema if not exists people;
create schema if not exists people_private;

comment on schema people is 'People: profiles, roles, notifications and badges of the platform''s users.';
comment on schema people_private is 'Internal helpers of People. Not reachable by the API roles.';

------------------------------------------------------------------------------
-- Roles
------------------------------------------------------------------------------

create table people.role_grants (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  role text not null check (role in ('artist', 'host')),
  granted_at timestamptz not null default now(),
  -- null: granted by the platform (service_role, a job, a migration)
  granted_by uuid,
  reason text check (char_length(reason) <= 500),
  revoked_at timestamptz,
  revoked_by uuid,
  revoke_reason text check (char_length(revoke_reason) <= 500),
  check (revoked_at is null or revoked_at >= granted_at),
  check (revoked_at is not null or (revoked_by is null and revoke_reason is null))
);

comment on table people.role_grants is
  'People: the roles given to a user that are not derived from other data (artist, host). A grant is '
  'revoked, never deleted, so the history stays. fan (every signed-in user), brand (companon.brand_members) '
  'and admin (treasury.admins) are derived: people.has_role answers for all five.';

-- At most one live grant of a role per user.
create unique index role_grants_live_key on people.role_grants (user_id, role) where revoked_at is null;
create index role_grants_user_idx on people.role_grants (user_id, granted_at desc);

------------------------------------------------------------------------------
-- Notifications
------------------------------------------------------------------------------

create table people.notification_kinds (
  kind text primary key check (kind ~ '^[a-z]+(\.[a-z_]+)+$'),
  description text not null,
  default_enabled boolean not null default true
);

comment on table people.notification_kinds is
  'People: every kind of in-app notification, what it tells and whether it is on for a user who chose '
  'nothing. Readable by everybody.';

insert into people.notification_kinds (kind, description) values
  ('ticket.transferred', 'a ticket was transferred to you'),
  ('payout.paid', 'a payout reached your bank account'),
  ('dna.increased', 'one of your DNA scores rose (an artist''s own scores)'),
  ('campaign.offer', 'a brand made you a sponsorship offer, or an offer of yours changed'),
  ('badge.earned', 'you earned a badge'),
  ('event.lineup', 'a host put you on an event''s lineup, or your billing on it changed'),
  ('event.cancelled', 'an event you hold a ticket or an RSVP for was cancelled'),
  ('role.changed', 'a role was granted to you or revoked');

create table people.notifications (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  kind text not null references people.notification_kinds (kind),
  -- what the app shows, in the platform's words; payload holds the ids the app links to
  title text not null check (char_length(title) between 1 and 200),
  body text check (char_length(body) <= 2000),
  payload jsonb not null default '{}'::jsonb check (jsonb_typeof(payload) = 'object'),
  -- a system's own id for what it notifies about: the same (user, kind, key) is notified once
  dedupe_key text check (char_length(dedupe_key) between 1 and 200),
  created_at timestamptz not null default now(),
  read_at timestamptz
);

comment on table people.notifications is
  'People: a user''s in-app notifications, newest first, fed by every system through '
  'people_private.notify. The user reads theirs and marks them read (realtime: supabase_realtime).';

create unique index notifications_dedupe_key on people.notifications (user_id, kind, dedupe_key)
  where dedupe_key is not null;
create index notifications_user_idx on people.notifications (user_id, id desc);
create index notifications_unread_idx on people.notifications (user_id, id) where read_at is null;

create table people.notification_preferences (
  user_id uuid not null,
  kind text not null references people.notification_kinds (kind),
  enabled boolean not null,
  updated_at timestamptz not null default now(),
  primary key (user_id, kind)
);

comment on table people.notification_preferences is
  'People: a user''s choice per notification kind; a kind without a row follows its default_enabled.';

alter publication supabase_realtime add table people.notifications;
