-- Coliseum boards: the 15 leaderboards, the plans that decide how much of
-- them a caller sees, and the artist profile (docs/coliseum-boards.md).
--
--   coliseum.plans                  what each plan sees: a depth and a set of boards
--   coliseum.user_plans             a user's paid plan, set by the service role
--   coliseum.my_plan                the plan the caller reads under
--   coliseum.set_plan               the service role's writer (logs system.plan_changed)
--   coliseum.leaderboard            the app's RPC: one page of one board
--   coliseum.board                  everything of one board the caller's plan shows
--   public.coliseum_leaderboard_*   15 views over coliseum.board
--   coliseum.artist_profile         strengths, ranks, history and growth of one artist
--   RLS on coliseum_domain_strength the same limits for reads of the table itself
--
-- The plan is enforced in SQL on every path: the RPCs check it and say which
-- plan would allow the request, the views return what the plan shows, and
-- row level security hides the rest of the table.

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants live in sql/coliseum/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122000710_coliseum_boards_code.sql              after it

------------------------------------------------------------------------------
-- Plans
------------------------------------------------------------------------------

create table coliseum.plans (
  plan text primary key,
  -- How many ranks of a board the plan shows; null is unlimited.
  depth int check (depth > 0),
  -- The boards it shows: domains of the catalog, and 'overall'.
  domains text[] not null check (domains <@ array['A', 'T', 'G', 'C', 'overall'])
);

comment on table coliseum.plans is
  'What each plan sees of the leaderboards: the top `depth` ranks (null: all) of the boards in `domains`. '
  'public is anon, free a signed-in user without a row in coliseum.user_plans.';

insert into coliseum.plans (plan, depth, domains) values
  ('public', 50, array['A']),
  ('free', 10, array['A']),
  ('basic', 25, array['A']),
  ('pro', 100, array['A', 'T', 'G', 'C', 'overall']),
  ('enterprise', null, array['A', 'T', 'G', 'C', 'overall']);

create table coliseum.user_plans (
  user_id uuid primary key,
  -- public and free are not stored: they are the absence of a row.
  plan text not null references coliseum.plans (plan)
    check (plan in ('basic', 'pro', 'enterprise')),
  updated_at timestamptz not null default now()
);

comment on table coliseum.user_plans is
  'A user''s paid plan (user_id = auth.users.id). Written only by coliseum.set_plan (service role); '
  'a user reads their own row.';

------------------------------------------------------------------------------
-- Boards: naming, access, ranking
------------------------------------------------------------------------------

-- previous_rank ranks a past day's board in order.
create index strength_history_board_idx
  on coliseum.strength_history (domain, period, day, score desc, artist_id);
