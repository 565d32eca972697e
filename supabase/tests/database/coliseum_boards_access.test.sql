-- Coliseum boards: what every plan (public = anon, free, basic, pro,
-- enterprise) and the service role reads through every path: the RPC
-- coliseum.leaderboard, coliseum.board and the 15 views, and the table
-- coliseum_domain_strength itself (row level security).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(79);

-- 120 artists; artist n ranks n on every one of the 15 boards. The free
-- user is artist 100 (beyond every limited depth), the others only fans.
delete from public.coliseum_domain_strength;
delete from coliseum.strength_history;
delete from coliseum.user_plans;
insert into public.coliseum_domain_strength (artist_id, domain, period, score, raw, components, events, fans, computed_at)
select ('a0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, d, p, 100 - n * 0.5, 1, '{}', 1, 1, now()
from generate_series(1, 120) as n,
     unnest(array['A', 'T', 'G', 'C', 'overall']) as d,
     unnest(array['7d', '30d', 'alltime']) as p;

select 'a0000000-0000-4000-8000-000000000100'::uuid as free_user, gen_random_uuid() as basic_user,
       gen_random_uuid() as pro_user, gen_random_uuid() as enterprise_user \gset
insert into coliseum.user_plans (user_id, plan) values
  (:'basic_user', 'basic'), (:'pro_user', 'pro'), (:'enterprise_user', 'enterprise');

-- The twelve boards outside A.
create temporary table other_views (name text) on commit drop;
insert into other_views
select 'coliseum_leaderboard_' || d || '_' || p
from unnest(array['t', 'g', 'c', 'overall']) as d, unnest(array['7d', '30d', 'alltime']) as p;
grant select on other_views to anon, authenticated, service_role;

-- Rows a query returns, as a number, whatever the query is.
create function pg_temp.row_count(query text) returns bigint language plpgsql as $$
declare
  n bigint;
begin
  execute format('select count(*) from (%s) as q', query) into n;
  return n;
end
$$;

-- Rows of each of the twelve non-A views, as {name: count}.
create function pg_temp.other_view_counts() returns jsonb language plpgsql as $$
declare
  v record;
  counts jsonb := '{}';
begin
  for v in select name from other_views order by name loop
    counts := counts || jsonb_build_object(v.name, pg_temp.row_count(format('select * from public.%I', v.name)));
  end loop;
  return counts;
end
$$;
create function pg_temp.every_other_view(n bigint) returns jsonb language sql as $$
  select jsonb_object_agg(name, n) from other_views
$$;
grant execute on function pg_temp.row_count(text), pg_temp.other_view_counts(), pg_temp.every_other_view(bigint)
  to anon, authenticated, service_role;

-- public (anon): top 50 of the A boards ------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';

select is(coliseum.my_plan(), 'public', 'anon reads under the public plan');
select is((select array_agg(rank order by rank) from coliseum.leaderboard('A', '7d', 50)),
          (select array_agg(n::int) from generate_series(1, 50) as n), 'public: RPC, ranks 1..50 of A');
select is((select array_agg(artist_id order by rank) from coliseum.leaderboard('a', '30d', 5, 45)),
          (select array_agg(('a0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid) from generate_series(46, 50) as n),
          'public: RPC, ranks 46..50 are artists 46..50');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 1, 50)$$, '42501',
                 'ranks beyond 50 need the pro plan (your plan: public)', 'public: RPC, rank 51 is refused');
select throws_ok($$select * from coliseum.leaderboard('T', '7d')$$, '42501',
                 'the T board needs the pro plan (your plan: public)', 'public: RPC, the T board is refused');
select throws_ok($$select * from coliseum.leaderboard('overall', 'alltime')$$, '42501',
                 'the overall board needs the pro plan (your plan: public)', 'public: RPC, the overall board is refused');
select is(pg_temp.row_count('select * from public.coliseum_leaderboard_a_7d'), 50::bigint, 'public: the A 7d view has 50 rows');
select is((select max(rank) from public.coliseum_leaderboard_a_alltime), 50, 'public: the A alltime view stops at rank 50');
select is(pg_temp.other_view_counts(), pg_temp.every_other_view(0), 'public: the T, G, C and overall views are empty');
select is(pg_temp.row_count($$select * from coliseum.board('G', '30d')$$), 0::bigint, 'public: coliseum.board of G is empty');
select is(pg_temp.row_count('select * from public.coliseum_domain_strength'), 150::bigint,
          'public: the table shows 3 A boards x 50 rows');
select is((select count(distinct artist_id) from public.coliseum_domain_strength where domain = 'A'
           and artist_id <= 'a0000000-0000-4000-8000-000000000050'), 50::bigint,
          'public: those rows are artists 1..50');
select is(pg_temp.row_count($$select * from public.coliseum_domain_strength where domain <> 'A'$$), 0::bigint,
          'public: no row of another domain');
select is((select array_agg(artist_id order by score desc, artist_id)
           from (select * from public.coliseum_domain_strength where domain = 'A' and period = '7d'
                 order by score desc, artist_id limit 60) as top),
          (select array_agg(artist_id order by rank) from coliseum.leaderboard('A', '7d', 50)),
          'public: a limit-60 read of the table gets the same 50 rows as the RPC');
reset role;

-- free: signed in without a plan, top 10 of the A boards (and all of their own rows) --------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'free_user', 'role', 'authenticated')::text, true) is not null as set \gset

select is(coliseum.my_plan(), 'free', 'a signed-in user without a plan reads under free');
select is((select array_agg(rank order by rank) from coliseum.leaderboard('A', '7d')),
          (select array_agg(n::int) from generate_series(1, 10) as n), 'free: RPC, ranks 1..10 of A (default lim 10)');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 11)$$, '42501',
                 'ranks beyond 10 need the basic plan (your plan: free)', 'free: RPC, rank 11 needs basic');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 10, 16)$$, '42501',
                 'ranks beyond 25 need the pro plan (your plan: free)', 'free: RPC, rank 25 is basic, rank 26 needs pro');
select throws_ok($$select * from coliseum.leaderboard('G', '30d', 1)$$, '42501',
                 'the G board needs the pro plan (your plan: free)', 'free: RPC, the G board is refused');
select throws_ok($$select * from coliseum.leaderboard('OVERALL', '7d', 1)$$, '42501',
                 'the overall board needs the pro plan (your plan: free)', 'free: RPC, the overall board is refused');
select is(pg_temp.row_count('select * from public.coliseum_leaderboard_a_7d'), 10::bigint, 'free: the A 7d view has 10 rows');
select is((select max(rank) from public.coliseum_leaderboard_a_30d), 10, 'free: the A 30d view stops at rank 10');
select is(pg_temp.other_view_counts(), pg_temp.every_other_view(0), 'free: the T, G, C and overall views are empty');
select is(pg_temp.row_count('select * from public.coliseum_domain_strength'), 45::bigint,
          'free: the table shows 3 x 10 A rows and the user''s own 15 rows');
select is(pg_temp.row_count(format('select * from public.coliseum_domain_strength where artist_id = %L', :'free_user')),
          15::bigint, 'free: an artist sees every row of their own, on every board');
select is(pg_temp.row_count(format($$select * from public.coliseum_domain_strength where artist_id <> %L and domain = 'A'
                                     and artist_id > 'a0000000-0000-4000-8000-000000000010'$$, :'free_user')),
          0::bigint, 'free: no other A row beyond rank 10');
select is(pg_temp.row_count($$select * from public.coliseum_leaderboard_a_7d where artist_id = 'a0000000-0000-4000-8000-000000000100'$$),
          0::bigint, 'free: the views rank the plan''s depth only, not the reader''s own row');
reset role;

-- basic: top 25 of the A boards ----------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'basic_user', 'role', 'authenticated')::text, true) is not null as set \gset

select is(coliseum.my_plan(), 'basic', 'a basic user reads under basic');
select is((select array_agg(rank order by rank) from coliseum.leaderboard('A', 'alltime', 25)),
          (select array_agg(n::int) from generate_series(1, 25) as n), 'basic: RPC, ranks 1..25 of A');
select is((select array_agg(rank order by rank) from coliseum.leaderboard('A', '7d', 5, 20)),
          (select array_agg(n::int) from generate_series(21, 25) as n), 'basic: RPC, ranks 21..25 of A');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 6, 20)$$, '42501',
                 'ranks beyond 25 need the pro plan (your plan: basic)', 'basic: RPC, rank 26 needs pro');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 1000, 0)$$, '42501',
                 'ranks beyond 100 need the enterprise plan (your plan: basic)', 'basic: RPC, rank 1000 needs enterprise');
select throws_ok($$select * from coliseum.leaderboard('c', '7d', 1)$$, '42501',
                 'the C board needs the pro plan (your plan: basic)', 'basic: RPC, the C board is refused');
select is(pg_temp.row_count('select * from public.coliseum_leaderboard_a_7d'), 25::bigint, 'basic: the A 7d view has 25 rows');
select is(pg_temp.other_view_counts(), pg_temp.every_other_view(0), 'basic: the T, G, C and overall views are empty');
select is(pg_temp.row_count('select * from public.coliseum_domain_strength'), 75::bigint, 'basic: the table shows 3 x 25 A rows');
reset role;

-- pro: top 100 of every board -------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'pro_user', 'role', 'authenticated')::text, true) is not null as set \gset

select is(coliseum.my_plan(), 'pro', 'a pro user reads under pro');
select is((select array_agg(rank order by rank) from coliseum.leaderboard('T', '7d', 100)),
          (select array_agg(n::int) from generate_series(1, 100) as n), 'pro: RPC, ranks 1..100 of T');
select is((select count(*) from coliseum.leaderboard('overall', '30d', 10, 90)), 10::bigint, 'pro: RPC, ranks 91..100 of overall');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 11, 90)$$, '42501',
                 'ranks beyond 100 need the enterprise plan (your plan: pro)', 'pro: RPC, rank 101 needs enterprise');
select is(pg_temp.row_count('select * from public.coliseum_leaderboard_a_7d'), 100::bigint, 'pro: the A 7d view has 100 rows');
select is(pg_temp.other_view_counts(), pg_temp.every_other_view(100), 'pro: every other view has 100 rows');
select is(pg_temp.row_count('select * from public.coliseum_domain_strength'), 1500::bigint, 'pro: the table shows 15 x 100 rows');
select is(pg_temp.row_count($$select * from public.coliseum_domain_strength where artist_id > 'a0000000-0000-4000-8000-000000000100'$$),
          0::bigint, 'pro: no row beyond rank 100');
reset role;

-- enterprise: everything -----------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'enterprise_user', 'role', 'authenticated')::text, true) is not null as set \gset

select is(coliseum.my_plan(), 'enterprise', 'an enterprise user reads under enterprise');
select is((select count(*) from coliseum.leaderboard('C', 'alltime', 1000)), 120::bigint, 'enterprise: RPC, all 120 ranks of C');
select is((select array_agg(rank order by rank) from coliseum.leaderboard('G', '7d', 10, 115)),
          (select array_agg(n::int) from generate_series(116, 120) as n), 'enterprise: RPC, a page past the end is short');
select is((select count(*) from coliseum.leaderboard('A', '7d', 10, 5000)), 0::bigint, 'enterprise: RPC, far past the end: no row');
select is(pg_temp.row_count('select * from public.coliseum_leaderboard_a_7d'), 120::bigint, 'enterprise: the A 7d view has 120 rows');
select is(pg_temp.other_view_counts(), pg_temp.every_other_view(120), 'enterprise: every other view has 120 rows');
select is(pg_temp.row_count('select * from public.coliseum_domain_strength'), 1800::bigint, 'enterprise: the table shows every row');
reset role;

-- service_role: not subject to plans --------------------------------------------------------

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';

select is(coliseum.my_plan(), null, 'service_role has no plan');
select is((select count(*) from coliseum.leaderboard('overall', '7d', 1000)), 120::bigint, 'service_role: RPC, every rank');
select is(pg_temp.row_count('select * from public.coliseum_leaderboard_t_30d'), 120::bigint, 'service_role: a view has every row');
select is(pg_temp.row_count('select * from public.coliseum_domain_strength'), 1800::bigint, 'service_role: the table has every row');
reset role;

-- Arguments ----------------------------------------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';

select is((select count(*) from coliseum.leaderboard('a', '7D')), 10::bigint, 'domain and range are case-insensitive');
select is((select count(*) from coliseum.leaderboard('A', 'AllTime', 3)), 3::bigint, 'range alltime in any case');
select throws_ok($$select * from coliseum.leaderboard('X', '7d')$$, '22023', 'domain must be A, T, G, C or overall, got "X"',
                 'an unknown domain is refused');
select throws_ok($$select * from coliseum.leaderboard(null, '7d')$$, '22023', 'domain must be A, T, G, C or overall, got null',
                 'a null domain is refused');
select throws_ok($$select * from coliseum.leaderboard('A', '1d')$$, '22023', 'range must be 7d, 30d or alltime, got "1d"',
                 'an unknown range is refused');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 0)$$, '22023', 'lim must be between 1 and 1000, got 0',
                 'lim 0 is refused');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 1001)$$, '22023', 'lim must be between 1 and 1000, got 1001',
                 'lim 1001 is refused');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', null)$$, '22023', 'lim must be between 1 and 1000, got null',
                 'lim null is refused');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 10, -1)$$, '22023', 'off must be 0 or more, got -1',
                 'a negative off is refused');
select throws_ok($$select * from coliseum.board('Z', '7d')$$, '22023', 'domain must be A, T, G, C or overall, got "Z"',
                 'coliseum.board checks its arguments too');
reset role;

-- The error tells what to do -----------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'free_user', 'role', 'authenticated')::text, true) is not null as set \gset
create function pg_temp.error_of(query text) returns text[] language plpgsql as $$
declare
  state text;
  message text;
  detail text;
  hint text;
begin
  execute query;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail,
                          hint = pg_exception_hint;
  return array[state, message, nullif(detail, ''), nullif(hint, '')];
end
$$;
grant execute on function pg_temp.error_of(text) to authenticated;
select is(pg_temp.error_of($$select * from coliseum.leaderboard('A', '7d', 20, 0)$$),
          array['42501', 'ranks beyond 10 need the basic plan (your plan: free)',
                'The request reaches rank 20; the free plan shows the top 10 of the A board.',
                'Ask for ranks up to 10 (off + lim <= 10).'],
          'the depth error has a detail and a hint');
select is(pg_temp.error_of($$select * from coliseum.leaderboard('T', '7d')$$),
          array['42501', 'the T board needs the pro plan (your plan: free)', null, 'The free plan shows the A board.'],
          'the board error has a hint');
reset role;

-- Nobody but the owner writes ----------------------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok($$insert into public.coliseum_domain_strength values
                   (gen_random_uuid(), 'A', '7d', 100, 1, '{}', 1, 1, now())$$,
                 '42501', 'permission denied for table coliseum_domain_strength', 'anon cannot insert into the table');
select throws_ok($$update public.coliseum_domain_strength set score = 100$$,
                 '42501', 'permission denied for table coliseum_domain_strength', 'anon cannot update the table');
select throws_ok($$select * from coliseum.user_plans$$,
                 '42501', 'permission denied for table user_plans', 'anon cannot read user plans');
reset role;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'free_user', 'role', 'authenticated')::text, true) is not null as set \gset
select throws_ok($$update public.coliseum_domain_strength set score = 100 where artist_id = auth.uid()$$,
                 '42501', 'permission denied for table coliseum_domain_strength', 'an artist cannot change their own score');
select throws_ok($$delete from public.coliseum_domain_strength$$,
                 '42501', 'permission denied for table coliseum_domain_strength', 'a user cannot delete scores');
select throws_ok($$truncate public.coliseum_domain_strength$$,
                 '42501', 'permission denied for table coliseum_domain_strength', 'a user cannot truncate scores');
select throws_ok(format($$insert into coliseum.user_plans (user_id, plan) values (%L, 'enterprise')$$, :'free_user'),
                 '42501', 'permission denied for table user_plans', 'a user cannot give themself a plan');
select throws_ok($$update coliseum.plans set depth = null$$,
                 '42501', 'permission denied for table plans', 'a user cannot change a plan');
reset role;

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select throws_ok($$update public.coliseum_domain_strength set score = 100$$,
                 '42501', 'permission denied for table coliseum_domain_strength', 'service_role cannot change scores either');
select throws_ok(format($$insert into coliseum.user_plans (user_id, plan) values (%L, 'pro')$$, gen_random_uuid()),
                 '42501', 'permission denied for table user_plans', 'service_role sets plans only through coliseum.set_plan');
reset role;

-- A signed-in role without a user id counts as anon; so does any other role that
-- reads the table under row level security.

set local role authenticated;
set local request.jwt.claims to '{"role": "authenticated"}';
select is(coliseum.my_plan(), 'public', 'authenticated without a sub reads under public');
reset role;

create role coliseum_boards_probe;
-- Where postgres is not a superuser (hosted Supabase) creating a role does not make it a member
-- (PostgreSQL 15), and set role needs membership.
grant coliseum_boards_probe to current_user;
grant usage on schema coliseum to coliseum_boards_probe;
grant execute on function coliseum.my_plan() to coliseum_boards_probe;
set local role coliseum_boards_probe;
select set_config('request.jwt.claims', json_build_object('sub', :'enterprise_user', 'role', 'authenticated')::text, true) is not null as set \gset
select coliseum.my_plan() as probe_plan \gset
reset role;
select is(:'probe_plan'::text, 'public', 'another role reads under public, whatever its claims say');

select * from finish();
rollback;
