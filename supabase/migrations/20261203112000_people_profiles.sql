-- People (issue 14, parts 2 and 3): profiles, role requests, the inbox's retention.
--
--   people.profiles        what a user tells the platform about themselves: display name, avatar, home city,
--                          genres. Only what they set here: the reads fall back to the app's own
--                          public.profiles and to auth.users' metadata (docs/people.md, "how the two meet")
--   people.role_requests   a user's request for the artist or host role and the admin's answer
--   people-prune-notifications  a daily cron job deleting read notifications older than 90 days
--
-- This step holds tables, indexes and the cron job. Its functions, policies and grants live in sql/people/,
-- one file per object (docs/database-sources.md), and the generated step installs them, as
-- sql/manifest.txt lists:
-- 20261203112010_people_profiles_code.sql              after it

create table people.profiles (
  user_id uuid primary key,
  display_name text check (char_length(display_name) between 1 and 80 and display_name = btrim(display_name)),
  avatar_url text check (char_length(avatar_url) <= 2000 and avatar_url ~ '^https://[^\s/?#]+[^\s]*$'),
  city text check (char_length(city) between 1 and 100 and city = btrim(city)),
  country char(2) check (country ~ '^[A-Z]{2}$'),
  -- the genre words Passport and Coliseum use (payload field genre): lower case, at most 10
  genres text[] not null default '{}' check (cardinality(genres) <= 10 and array_position(genres, null) is null),
  -- counts the user's changes: names each change's Passport event (profile.updated)
  version int not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table people.profiles is
  'People: what a user set about themselves (display name, https avatar, city, ISO country, genres). Absent '
  'fields fall back to the app''s public.profiles and to auth.users metadata in the reads '
  '(people.my_profile, people.profile_cards, people.artist_cards). Written through people.update_profile only.';

create table people.role_requests (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  role text not null check (role in ('artist', 'host')),
  reason text check (char_length(reason) <= 500),
  status text not null default 'pending' check (status in ('pending', 'approved', 'declined')),
  requested_at timestamptz not null default now(),
  reviewed_at timestamptz,
  -- null: reviewed by the platform (service_role)
  reviewed_by uuid,
  review_note text check (char_length(review_note) <= 500),
  -- the grant an approval made
  grant_id bigint references people.role_grants (id),
  check ((status = 'pending') = (reviewed_at is null)),
  check ((status = 'approved') = (grant_id is not null))
);

comment on table people.role_requests is
  'People: a user''s request for the artist or host role (people.request_role) and its review '
  '(people.review_role_request: approved makes a people.role_grants row). History: rows are never deleted.';

-- At most one open request per user and role.
create unique index role_requests_pending_key on people.role_requests (user_id, role) where status = 'pending';
create index role_requests_user_idx on people.role_requests (user_id, id desc);
create index role_requests_open_idx on people.role_requests (id) where status = 'pending';

-- What the retention job deletes: read notifications, oldest first.
create index notifications_read_idx on people.notifications (created_at) where read_at is not null;

select cron.schedule('people-prune-notifications', '17 3 * * *',
                     $$select people_private.prune_notifications(90)$$);
