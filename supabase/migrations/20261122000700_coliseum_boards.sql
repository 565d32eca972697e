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

alter table coliseum.plans enable row level security;
alter table coliseum.user_plans enable row level security;

revoke all on coliseum.plans, coliseum.user_plans from anon, authenticated, service_role;
grant select on coliseum.plans to anon, authenticated, service_role;
create policy plans_are_public on coliseum.plans
  for select to anon, authenticated using (true);

-- No write grant for anyone but the owner: a plan changes only through
-- coliseum.set_plan, which also logs the change to Passport.
grant select on coliseum.user_plans to authenticated, service_role;
create policy user_plans_own_row on coliseum.user_plans
  for select to authenticated using (user_id = (select auth.uid()));

-- The plan the caller reads under: 'public' for anon, the stored plan or
-- 'free' for a signed-in user, null for roles that are not subject to plans.
--
-- The caller is the role the session switched to with SET ROLE (PostgREST
-- does so for every request), read from the `role` setting: unlike
-- current_user it stays the caller's inside security definer functions, and
-- only a member of a role can switch to it. Roles that read
-- coliseum_domain_strength without row level security anyway (superusers,
-- BYPASSRLS roles such as service_role, the table's owner) get null: limiting
-- only their RPC reads would make the paths disagree. Any other role is
-- treated as anon.
create function coliseum.my_plan()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when passport_private.caller_is_privileged('public.coliseum_domain_strength') then null
    when coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user) = 'authenticated'
         and auth.uid() is not null then
      coalesce((select u.plan from coliseum.user_plans as u where u.user_id = auth.uid()), 'free')
    else 'public'
  end
$$;

comment on function coliseum.my_plan() is
  'The caller''s plan: public (anon), free (signed in, no paid plan), basic, pro, enterprise; '
  'null for roles that are not subject to plans (service_role, the owner).';

-- Sets a user's plan; null or 'free' removes it. A change (and only a
-- change) is logged as the Passport event system.plan_changed in the same
-- transaction. Returns the plan now in force.
create function coliseum.set_plan(user_id uuid, plan text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  wanted text := nullif(lower(set_plan.plan), 'free');
  current_plan text;
begin
  if set_plan.user_id is null then
    raise exception using
      errcode = '22023',
      message = 'user_id is required';
  end if;
  if wanted is not null and wanted not in ('basic', 'pro', 'enterprise') then
    raise exception using
      errcode = '22023',
      message = format('plan must be basic, pro, enterprise, or free (or null), got "%s"', set_plan.plan),
      hint = 'public and free are not stored: free (or null) removes the user''s plan.';
  end if;

  -- One change at a time per user, so each logged event is a real change.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('coliseum.set_plan:' || set_plan.user_id::text, 0));
  select u.plan into current_plan from coliseum.user_plans as u where u.user_id = set_plan.user_id;
  if current_plan is not distinct from wanted then
    return coalesce(wanted, 'free');
  end if;

  if wanted is null then
    delete from coliseum.user_plans as u where u.user_id = set_plan.user_id;
  else
    insert into coliseum.user_plans as u (user_id, plan, updated_at)
    values (set_plan.user_id, wanted, now())
    on conflict on constraint user_plans_pkey do update set plan = excluded.plan, updated_at = excluded.updated_at;
  end if;

  perform passport.log(
    user_id => set_plan.user_id,
    kind => 'system.plan_changed',
    client_event_id => 'coliseum.set_plan:' || pg_catalog.gen_random_uuid()::text,
    payload => jsonb_build_object('plan', coalesce(wanted, 'free')),
    source => 'system');
  return coalesce(wanted, 'free');
end
$$;

comment on function coliseum.set_plan(uuid, text) is
  'Service role: sets a user''s plan (basic, pro, enterprise; free or null removes it) and logs system.plan_changed.';

------------------------------------------------------------------------------
-- Boards: naming, access, ranking
------------------------------------------------------------------------------

-- The board a request names, in stored spelling: domain 'A', 'T', 'G', 'C'
-- (any case) or 'overall' (any case); period '7d', '30d', 'alltime' (any case).
create function coliseum_private.board_key(
  domain text,
  range text,
  out board_domain text,
  out board_period text
)
language plpgsql
immutable
as $$
begin
  board_domain := case when upper(domain) in ('A', 'T', 'G', 'C') then upper(domain)
                       when lower(domain) = 'overall' then 'overall' end;
  if board_domain is null then
    raise exception using
      errcode = '22023',
      message = format('domain must be A, T, G, C or overall, got %s', coalesce('"' || domain || '"', 'null'));
  end if;
  board_period := case when lower(range) in ('7d', '30d', 'alltime') then lower(range) end;
  if board_period is null then
    raise exception using
      errcode = '22023',
      message = format('range must be 7d, 30d or alltime, got %s', coalesce('"' || range || '"', 'null'));
  end if;
end
$$;

-- Refuses a request for ranks up to last_rank of a domain's board that the
-- plan does not show, naming the cheapest plan that would: 42501.
-- A null plan (a role not subject to plans) passes.
create function coliseum_private.check_access(caller_plan text, board_domain text, last_rank bigint)
returns void
language plpgsql
stable
as $$
declare
  mine coliseum.plans;
  needed coliseum.plans;
  shown_by_cheaper int;
begin
  if caller_plan is null then
    return;
  end if;
  select * into strict mine from coliseum.plans as p where p.plan = caller_plan;

  if not board_domain = any (mine.domains) then
    select * into needed from coliseum.plans as p
    where p.plan not in ('public', 'free') and board_domain = any (p.domains)
    order by p.depth nulls last
    limit 1;
    raise exception using
      errcode = '42501',
      message = format('the %s board needs the %s plan (your plan: %s)', board_domain, needed.plan, caller_plan),
      hint = format('The %s plan shows the %s board%s.', caller_plan,
                    array_to_string(mine.domains, ', '), case when cardinality(mine.domains) > 1 then 's' else '' end);
  end if;

  if last_rank > mine.depth then
    -- The cheapest plan that shows that far, and how far the plans below it go.
    select * into needed from coliseum.plans as p
    where p.plan not in ('public', 'free') and board_domain = any (p.domains)
      and (p.depth is null or p.depth >= last_rank)
    order by p.depth nulls last
    limit 1;
    select greatest(mine.depth, max(p.depth)) into shown_by_cheaper from coliseum.plans as p
    where p.plan not in ('public', 'free') and board_domain = any (p.domains) and p.depth < last_rank;
    raise exception using
      errcode = '42501',
      message = format('ranks beyond %s need the %s plan (your plan: %s)', shown_by_cheaper, needed.plan, caller_plan),
      detail = format('The request reaches rank %s; the %s plan shows the top %s of the %s board.',
                      last_rank, caller_plan, mine.depth, board_domain),
      hint = format('Ask for ranks up to %s (off + lim <= %s).', mine.depth, mine.depth);
  end if;
end
$$;

-- How many artists rank ahead of (row_score, row_artist) on a board, counting
-- at most `cap` of them (null: all). Ahead means a higher score, or the same
-- score and a smaller artist_id: the boards' order. Two range scans of the
-- board index, together reading at most `cap` entries.
create function coliseum_private.rows_ahead(
  board_domain text,
  board_period text,
  row_score double precision,
  row_artist uuid,
  cap bigint
)
returns bigint
language plpgsql
stable
as $$
declare
  higher bigint;
  tied bigint;
begin
  select count(*) into higher
  from (select from public.coliseum_domain_strength as s
        where s.domain = board_domain and s.period = board_period and s.score > row_score
        limit cap) as h;
  if higher = cap then
    return higher;
  end if;
  select count(*) into tied
  from (select from public.coliseum_domain_strength as s
        where s.domain = board_domain and s.period = board_period and s.score = row_score and s.artist_id < row_artist
        limit cap - higher) as t;
  return higher + tied;
end
$$;

-- Ranks first_rank + 1 .. first_rank + max_rows of a board (max_rows null:
-- to the end), in rank order. rank = row_number over (score desc, artist_id);
-- change = score - the artist's score on the reference day (today - 30 days
-- for 30d, today - 7 days for 7d and alltime, UTC); previous_rank = the
-- artist's rank on that day's board. Both null when the artist has no
-- history row that day.
--
-- Cost: an index scan of first_rank + max_rows board entries, a primary key
-- lookup per row for the reference score, and one ordered range scan of the
-- reference day's board down to the lowest reference score on the page
-- (ranking a prefix of a board gives the same ranks as ranking all of it).
-- Each statement is planned with the call's values (plan_cache_mode), so the
-- page's limit and that lowest score reach the index scans as constants.
-- JIT is off: these are millisecond queries whose cost estimates can still
-- pass the JIT threshold, and compiling would cost more than running.
create function coliseum_private.board_page(
  board_domain text,
  board_period text,
  first_rank bigint,
  max_rows bigint
)
returns table (rank int, artist_id uuid, score double precision, change double precision, previous_rank int)
language plpgsql
stable
set plan_cache_mode = force_custom_plan
set jit = off
as $$
declare
  reference_day date := (now() at time zone 'UTC')::date - case board_period when '30d' then 30 else 7 end;
  artists uuid[];
  scores double precision[];
  reference_scores double precision[];
  lowest_reference double precision;
begin
  select coalesce(array_agg(p.artist_id order by p.n), '{}'), array_agg(p.score order by p.n),
         array_agg(h.score order by p.n), min(h.score)
  into artists, scores, reference_scores, lowest_reference
  from (select s.artist_id, s.score, row_number() over (order by s.score desc, s.artist_id) as n
        from public.coliseum_domain_strength as s
        where s.domain = board_domain and s.period = board_period
        order by s.score desc, s.artist_id
        offset first_rank
        limit max_rows) as p
  left join coliseum.strength_history as h
    on h.artist_id = p.artist_id and h.domain = board_domain and h.period = board_period and h.day = reference_day;

  return query
  with reference_ranks as (
    select h.artist_id, row_number() over (order by h.score desc, h.artist_id) as rank
    from coliseum.strength_history as h
    where h.domain = board_domain and h.period = board_period and h.day = reference_day
      and h.score >= lowest_reference
  )
  select (first_rank + p.n)::int, p.artist_id, p.score, p.score - p.reference_score, r.rank::int
  from unnest(artists, scores, reference_scores) with ordinality as p(artist_id, score, reference_score, n)
  left join reference_ranks as r on r.artist_id = p.artist_id
  order by p.n;
end
$$;

-- previous_rank ranks a past day's board in order.
create index strength_history_board_idx
  on coliseum.strength_history (domain, period, day, score desc, artist_id);

------------------------------------------------------------------------------
-- The app's API
------------------------------------------------------------------------------

-- One page of a board: ranks off + 1 .. off + lim. domain: A, T, G, C or
-- overall; range: 7d, 30d or alltime (both in any case); lim 1..1000,
-- off >= 0. A board or a depth beyond the caller's plan raises 42501 naming
-- the plan that shows it; ranks beyond the board's end just return fewer rows.
create function coliseum.leaderboard(
  domain text,
  range text,
  lim int default 10,
  off int default 0
)
returns table (rank int, artist_id uuid, score double precision, change double precision, previous_rank int)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  key record;
begin
  key := coliseum_private.board_key(leaderboard.domain, leaderboard.range);
  if lim is null or lim not between 1 and 1000 then
    raise exception using
      errcode = '22023',
      message = format('lim must be between 1 and 1000, got %s', coalesce(lim::text, 'null'));
  end if;
  if off is null or off < 0 then
    raise exception using
      errcode = '22023',
      message = format('off must be 0 or more, got %s', coalesce(off::text, 'null'));
  end if;
  perform coliseum_private.check_access(coliseum.my_plan(), key.board_domain, off::bigint + lim);
  return query select * from coliseum_private.board_page(key.board_domain, key.board_period, off, lim);
end
$$;

comment on function coliseum.leaderboard(text, text, int, int) is
  'Ranks off+1..off+lim of a board (domain A/T/G/C/overall, range 7d/30d/alltime): rank, artist_id, score, change, '
  'previous_rank. 42501 beyond the caller''s plan, 22023 for bad arguments.';

-- Everything of one board that the caller's plan shows: its top `depth`
-- ranks, or no row when the plan does not include the board. Never raises
-- for the plan, so that the views can be read by generic tools; the RPC is
-- the path that explains.
create function coliseum.board(domain text, range text)
returns table (rank int, artist_id uuid, score double precision, change double precision, previous_rank int)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  key record;
  caller_plan coliseum.plans;
begin
  key := coliseum_private.board_key(board.domain, board.range);
  select * into caller_plan from coliseum.plans as p where p.plan = coliseum.my_plan();
  if found and not key.board_domain = any (caller_plan.domains) then
    return;
  end if;
  return query select * from coliseum_private.board_page(key.board_domain, key.board_period, 0, caller_plan.depth);
end
$$;

comment on function coliseum.board(text, text) is
  'The part of a board the caller''s plan shows (top depth ranks; none for a board outside the plan). '
  'Behind the public.coliseum_leaderboard_* views.';

------------------------------------------------------------------------------
-- The 15 views the app reads. Each is coliseum.board for one board, so the
-- view itself holds no logic and no privilege: security_invoker, because it
-- reads no relation, only calls a function that applies the caller's plan
-- (a definer view would add nothing and would hide the caller from anything
-- added to it later); security_barrier, so that no predicate of a query on
-- the view can ever be evaluated ahead of what the view returns. Supabase
-- grants ALL on new relations in public; the views are read-only, and say so.
------------------------------------------------------------------------------

create view public.coliseum_leaderboard_a_7d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('A', '7d') as b;
create view public.coliseum_leaderboard_a_30d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('A', '30d') as b;
create view public.coliseum_leaderboard_a_alltime with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('A', 'alltime') as b;
create view public.coliseum_leaderboard_t_7d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('T', '7d') as b;
create view public.coliseum_leaderboard_t_30d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('T', '30d') as b;
create view public.coliseum_leaderboard_t_alltime with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('T', 'alltime') as b;
create view public.coliseum_leaderboard_g_7d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('G', '7d') as b;
create view public.coliseum_leaderboard_g_30d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('G', '30d') as b;
create view public.coliseum_leaderboard_g_alltime with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('G', 'alltime') as b;
create view public.coliseum_leaderboard_c_7d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('C', '7d') as b;
create view public.coliseum_leaderboard_c_30d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('C', '30d') as b;
create view public.coliseum_leaderboard_c_alltime with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('C', 'alltime') as b;
create view public.coliseum_leaderboard_overall_7d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('overall', '7d') as b;
create view public.coliseum_leaderboard_overall_30d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('overall', '30d') as b;
create view public.coliseum_leaderboard_overall_alltime with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('overall', 'alltime') as b;

revoke all on
  public.coliseum_leaderboard_a_7d, public.coliseum_leaderboard_a_30d, public.coliseum_leaderboard_a_alltime,
  public.coliseum_leaderboard_t_7d, public.coliseum_leaderboard_t_30d, public.coliseum_leaderboard_t_alltime,
  public.coliseum_leaderboard_g_7d, public.coliseum_leaderboard_g_30d, public.coliseum_leaderboard_g_alltime,
  public.coliseum_leaderboard_c_7d, public.coliseum_leaderboard_c_30d, public.coliseum_leaderboard_c_alltime,
  public.coliseum_leaderboard_overall_7d, public.coliseum_leaderboard_overall_30d, public.coliseum_leaderboard_overall_alltime
  from anon, authenticated, service_role;
grant select on
  public.coliseum_leaderboard_a_7d, public.coliseum_leaderboard_a_30d, public.coliseum_leaderboard_a_alltime,
  public.coliseum_leaderboard_t_7d, public.coliseum_leaderboard_t_30d, public.coliseum_leaderboard_t_alltime,
  public.coliseum_leaderboard_g_7d, public.coliseum_leaderboard_g_30d, public.coliseum_leaderboard_g_alltime,
  public.coliseum_leaderboard_c_7d, public.coliseum_leaderboard_c_30d, public.coliseum_leaderboard_c_alltime,
  public.coliseum_leaderboard_overall_7d, public.coliseum_leaderboard_overall_30d, public.coliseum_leaderboard_overall_alltime
  to anon, authenticated, service_role;

------------------------------------------------------------------------------
-- The table path: row level security on coliseum_domain_strength
------------------------------------------------------------------------------

-- What the policy below needs to know of the caller's plan, computed once
-- per statement (both are uncorrelated subqueries of the policy):
--   coliseum.boards_shown_in_full(): the domains whose boards the plan shows
--     without a depth limit (all of them for a role not subject to plans);
--   coliseum.rows_shown(): the rows of the other boards the plan includes
--     that are within its depth, i.e. the first `depth` rows of each board in
--     the board index's order: an index scan of `depth` entries per board.
-- A row is then checked by two hash probes. Both answer only
-- for the caller's own plan, so they tell nothing the caller could not read;
-- they are callable by the API roles because policies run as the caller.
create function coliseum.boards_shown_in_full()
returns setof text
language sql
stable
security definer
set search_path = ''
as $$
  select d.domain
  from (select coliseum.my_plan() as plan) as caller
  left join coliseum.plans as p on p.plan = caller.plan
  cross join unnest(case when caller.plan is null then array['A', 'T', 'G', 'C', 'overall'] else p.domains end) as d(domain)
  where caller.plan is null or p.depth is null
$$;

create function coliseum.rows_shown()
returns table (domain text, period text, artist_id uuid)
language sql
stable
security definer
set search_path = ''
-- The depth is unknown when this is planned, so the estimate is large
-- enough to trigger JIT, which would cost more than the query.
set jit = off
as $$
  select top.domain, top.period, top.artist_id
  from coliseum.plans as p
  cross join unnest(p.domains) as d(domain)
  cross join unnest(array['7d', '30d', 'alltime']) as w(period)
  cross join lateral (
    select s.domain, s.period, s.artist_id
    from public.coliseum_domain_strength as s
    where s.domain = d.domain and s.period = w.period
    order by s.score desc, s.artist_id
    limit p.depth
  ) as top
  where p.plan = coliseum.my_plan() and p.depth is not null
$$;

comment on function coliseum.boards_shown_in_full() is
  'Row level security helper: the domains whose boards the caller''s plan shows in full.';
comment on function coliseum.rows_shown() is
  'Row level security helper: (domain, period, artist_id) of the rows within the caller''s depth on depth-limited boards.';

-- The artist always sees their own rows; other rows as the plan shows them.
create policy domain_strength_plan_reads on public.coliseum_domain_strength
  for select to anon, authenticated
  using (
    artist_id = (select auth.uid())
    or domain in (select coliseum.boards_shown_in_full())
    or (domain, period, artist_id) in (select r.domain, r.period, r.artist_id from coliseum.rows_shown() as r)
  );

------------------------------------------------------------------------------
-- The artist profile
------------------------------------------------------------------------------

-- Growth of an artist per domain: raw strength of the last 7 days against
-- the 7 days before, both as the processor computed them: recent_raw is the
-- artist's current 7d raw (coliseum_domain_strength, at most minutes old for
-- an active artist), previous_raw the 7d raw the processor stored for the
-- UTC day 7 days ago (coliseum.strength_history: that day's last refresh), so
-- the two windows are (now - 7 days, now] and, to within that day, the 7 days
-- before. Null previous_raw when the artist was not scored that day.
create function coliseum_private.artist_growth(artist uuid)
returns table (domain text, recent_raw double precision, previous_raw double precision)
language sql
stable
as $$
  select d.domain, coalesce(s.raw, 0), h.raw
  from unnest(array['A', 'T', 'G', 'C']) as d(domain)
  left join public.coliseum_domain_strength as s
    on s.artist_id = artist and s.domain = d.domain and s.period = '7d'
  left join coliseum.strength_history as h
    on h.artist_id = artist and h.domain = d.domain and h.period = '7d'
   and h.day = (now() at time zone 'UTC')::date - 7
$$;

-- One artist's DNA for a profile page, as far as the caller's plan shows it
-- (the artist themself, and roles not subject to plans, see everything):
--   boards   per domain (A, T, G, C, overall) and period (7d, 30d, alltime):
--            score, raw, rank, change, events, fans, components, computed_at;
--            null where the artist has no score or the plan does not show
--            that row of that board (the same rule as the table's policy)
--   history  per domain and overall, the 30d score of each of the last 90
--            UTC days (oldest first); null where the plan does not show the
--            artist's 30d row
--   growth   per domain, raw strength over the last 7 days against the 7
--            days before (coliseum_private.artist_growth): recent_raw,
--            previous_raw, ratio, percent (ratio and percent null when
--            previous_raw is 0 or unknown); null where the plan does not
--            show the artist's 7d row
create function coliseum.artist_profile(artist uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  caller_plan text := coliseum.my_plan();
  plan_row coliseum.plans;
  sees_all boolean;
  today date := (now() at time zone 'UTC')::date;
  profile jsonb;
begin
  if artist is null then
    raise exception using
      errcode = '22023',
      message = 'artist is required';
  end if;
  select * into plan_row from coliseum.plans as p where p.plan = caller_plan;
  sees_all := caller_plan is null or artist = auth.uid();

  with strength as (
    select s.*,
           h.score as reference_score,
           -- Artists ahead, counted only as far as the plan needs to know.
           case when sees_all or s.domain = any (plan_row.domains) then
             coliseum_private.rows_ahead(s.domain, s.period, s.score, s.artist_id,
                                         case when sees_all then null else plan_row.depth end)
           end as ahead
    from public.coliseum_domain_strength as s
    left join coliseum.strength_history as h
      on h.artist_id = s.artist_id and h.domain = s.domain and h.period = s.period
     and h.day = today - case s.period when '30d' then 30 else 7 end
    where s.artist_id = artist
  ),
  shown as (
    select st.*
    from strength as st
    where sees_all or (st.ahead is not null and (plan_row.depth is null or st.ahead < plan_row.depth))
  ),
  boards as (
    select jsonb_object_agg(d.domain, (
             select jsonb_object_agg(w.period, (
                      select jsonb_build_object(
                               'score', sh.score, 'raw', sh.raw, 'rank', sh.ahead + 1,
                               'change', sh.score - sh.reference_score, 'events', sh.events, 'fans', sh.fans,
                               'components', sh.components, 'computed_at', sh.computed_at)
                      from shown as sh
                      where sh.domain = d.domain and sh.period = w.period))
             from unnest(array['7d', '30d', 'alltime']) as w(period))) as value
    from unnest(array['A', 'T', 'G', 'C', 'overall']) as d(domain)
  ),
  history as (
    select jsonb_object_agg(d.domain, case when sees_all or exists (select from shown as sh where sh.domain = d.domain and sh.period = '30d')
             then coalesce((
               select jsonb_agg(jsonb_build_object('day', h.day, 'score', h.score) order by h.day)
               from coliseum.strength_history as h
               where h.artist_id = artist and h.domain = d.domain and h.period = '30d' and h.day > today - 90),
               '[]'::jsonb)
           end) as value
    from unnest(array['A', 'T', 'G', 'C', 'overall']) as d(domain)
  ),
  growth as (
    select jsonb_object_agg(g.domain, case when sees_all or exists (select from shown as sh where sh.domain = g.domain and sh.period = '7d')
             then jsonb_build_object(
               'recent_raw', g.recent_raw,
               'previous_raw', g.previous_raw,
               'ratio', g.recent_raw / nullif(g.previous_raw, 0),
               'percent', 100 * (g.recent_raw / nullif(g.previous_raw, 0) - 1))
           end) as value
    from coliseum_private.artist_growth(artist) as g
  )
  select jsonb_build_object(
           'artist_id', artist,
           'plan', caller_plan,
           'boards', (select b.value from boards as b),
           'history', (select h.value from history as h),
           'growth', (select g.value from growth as g))
  into profile;
  return profile;
end
$$;

comment on function coliseum.artist_profile(uuid) is
  'An artist''s boards (score, rank, change, components), 90-day 30d history and 7-day growth, as the caller''s plan shows them.';

------------------------------------------------------------------------------
-- Who may call what. Functions in these schemas start with no grant at all
-- (see the foundation migration).
------------------------------------------------------------------------------

grant execute on function coliseum.my_plan() to anon, authenticated, service_role;
grant execute on function coliseum.set_plan(uuid, text) to service_role;
grant execute on function coliseum.leaderboard(text, text, int, int) to anon, authenticated, service_role;
grant execute on function coliseum.board(text, text) to anon, authenticated, service_role;
grant execute on function coliseum.boards_shown_in_full() to anon, authenticated;
grant execute on function coliseum.rows_shown() to anon, authenticated;
grant execute on function coliseum.artist_profile(uuid) to anon, authenticated, service_role;
