-- Badges (issue 14): rules over Passport, evaluated by the Coliseum processor as entries arrive, each
-- award once per (user, badge, scope), logged as badge.earned and notified.
--
--   people.badges                      the badge catalogue: code, title, description, image, a rule (data, one of
--                                      a small closed set of shapes: count, early, rank) and whether it is live
--   people.badge_awards                who earned which badge, in which scope (an artist, an artist's month)
--   people_private.badge_progress      per (badge, user, scope): the running count of a count rule, or the
--                                      position of an early rule's user; the processor adds each batch to it
--                                      and never rescans history
--   people_private.badge_scope_counts  per (badge, scope) of an early rule: how many users came first so far
--
--   the pg_cron job people-badges-monthly awards the rank badges of the month that closed
--
-- Rules, the processor's part, backfill, reads and errors: docs/badges.md. This step holds tables, indexes
-- and the cron job. Its functions, triggers, policies and grants live in sql/people/, one file per object
-- (docs/database-sources.md), and the generated step installs them, as sql/manifest.txt lists:
-- 20261203113010_people_badges_code.sql               after it
-- 20261203113020_people_badges_data.sql               the starter badges, after the code (their rules are checked)

create table people.badges (
  id bigint generated always as identity primary key,
  -- the stable name the app and the badge.earned entries use
  code text not null unique check (code ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$' and char_length(code) <= 64),
  title text not null check (char_length(title) between 1 and 100),
  description text not null check (char_length(description) between 1 and 500),
  -- an https URL of the badge's picture, or a path the app resolves in its storage
  image text check (char_length(image) between 1 and 2000),
  -- checked by people_private.check_badge_rule (trigger people.badges.guard): docs/badges.md, "Rules"
  rule jsonb not null,
  -- live: the processor (count, early) or the monthly job (rank) evaluates it
  active boolean not null default false,
  -- the first activation, when the history was evaluated (backfill); from then on the rule and code are fixed
  activated_at timestamptz,
  backfilled_entries bigint,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (not active or activated_at is not null)
);

comment on table people.badges is
  'People: the badge catalogue. A rule is data (docs/badges.md): count, early or rank. Admins create badges '
  '(people.put_badge, inactive) and activate them (people.activate_badge: evaluates the history once, then '
  'the processor or the monthly job keeps them current). Everybody reads the active ones.';

-- The processor reads the live count and early rules at every batch.
create index badges_active_idx on people.badges (id) where active;

create table people.badge_awards (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  badge_id bigint not null references people.badges (id),
  -- '' (the badge is once per user), '<artist id>' (once per artist), '<artist id>/<yyyy-mm>' (rank: per month)
  scope text not null check (char_length(scope) <= 100),
  artist_id uuid,
  -- rank badges: the first day of the month they were earned for
  period_start date,
  awarded_at timestamptz not null default now(),
  -- the entry that completed the rule (count: the one that reached at_least, early: the user's first);
  -- null for rank badges, earned by a whole month
  earned_by_entry_id bigint,
  -- the badge.earned entry this award logged
  entry_id bigint not null,
  unique (user_id, badge_id, scope),
  check (scope = '' or artist_id is not null),
  check (period_start is null or period_start = date_trunc('month', period_start)::date)
);

comment on table people.badge_awards is
  'People: the badges users earned, once per (user, badge, scope); each award logged a badge.earned Passport '
  'entry (entry_id) and a badge.earned notification. The user reads their own (people.my_badges), anybody a '
  'user''s public list (people.user_badges).';

create index badge_awards_user_idx on people.badge_awards (user_id, awarded_at desc, id desc);
create index badge_awards_badge_idx on people.badge_awards (badge_id);

create table people_private.badge_progress (
  badge_id bigint not null references people.badges (id),
  user_id uuid not null,
  -- '' or the artist id, as in badge_awards
  scope text not null,
  -- count rules: the entries counted so far (it stops at at_least); early rules: the user's position
  count bigint not null check (count >= 1),
  -- the newest entry added: a batch evaluated again adds nothing (docs/badges.md, "Exactly once")
  last_entry_id bigint not null,
  primary key (badge_id, user_id, scope)
);

comment on table people_private.badge_progress is
  'People: the processor''s running state of the count and early badge rules, per (badge, user, scope).';

create table people_private.badge_scope_counts (
  badge_id bigint not null references people.badges (id),
  scope text not null,
  -- the users counted first in the scope, at most the rule's within_first
  users bigint not null check (users >= 0),
  primary key (badge_id, scope)
);

comment on table people_private.badge_scope_counts is
  'People: per (badge, artist) of an early rule, how many users came first so far.';

-- Rank badges (top fan of the month) are awarded once the month closed, from Coliseum's per-day fan totals.
-- 00:30 UTC on the 1st: the processor runs every second, so the month's last entries are folded by then.
select cron.schedule('people-badges-monthly', '30 0 1 * *', 'select people_private.award_rank_badges()');
