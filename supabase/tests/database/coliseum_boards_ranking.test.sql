-- Coliseum boards: rank order and ties, change and previous_rank from
-- coliseum.strength_history, paging, and the views agreeing with the RPC.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(15);

\ir coliseum_boards_helpers.psql

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';

select results_eq(
  $$select * from coliseum.leaderboard('A', '7d')$$,
  $$values (1, pg_temp.artist(1), 90::float8, 5::float8, 2),
           (2, pg_temp.artist(2), 80, -2, 3),
           (3, pg_temp.artist(3), 80, null, null),
           (4, pg_temp.artist(4), 70, -5, 5),
           (5, pg_temp.artist(5), 60, 0, 6)$$,
  'A 7d: rank by score then artist_id; change and previous_rank against 7 days ago'
);
select results_eq(
  $$select * from coliseum.leaderboard('A', '7d', 2, 2)$$,
  $$values (3, pg_temp.artist(3), 80::float8, null::float8, null::int),
           (4, pg_temp.artist(4), 70, -5, 5)$$,
  'a page deep in the board keeps its ranks and previous ranks'
);
select results_eq(
  $$select * from coliseum.leaderboard('A', '7d', 1, 4)$$,
  $$values (5, pg_temp.artist(5), 60::float8, 0::float8, 6)$$,
  'the previous rank counts artists who have left the board'
);
select results_eq(
  $$select * from coliseum.leaderboard('A', '30d')$$,
  $$values (1, pg_temp.artist(1), 50::float8, 6::float8, 2), (2, pg_temp.artist(2), 40, -5, 1)$$,
  'A 30d: change and previous_rank against 30 days ago'
);
select results_eq(
  $$select * from coliseum.leaderboard('A', 'alltime')$$,
  $$values (1, pg_temp.artist(1), 70::float8, 5::float8, 2), (2, pg_temp.artist(2), 30, -36, 1)$$,
  'A alltime: change and previous_rank against 7 days ago'
);
select is((select count(*) from coliseum.leaderboard('A', '7d', 10, 5)), 0::bigint, 'a page past the end is empty');
select is((select count(*) from coliseum.leaderboard('T', '7d')), 0::bigint, 'an empty board has no row');
reset role;

-- A board with no history row on its reference day (board_page's shortcut:
-- no reference scan) still ranks, with change and previous_rank null.
insert into public.coliseum_domain_strength (artist_id, domain, period, score, raw, components, events, fans, computed_at)
select pg_temp.artist(n), 'T', '30d', s, 1, '{}', 1, 1, now()
from (values (1, 10.0), (2, 30.0), (3, 30.0), (4, 20.0)) as t(n, s);
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw) values
  (:'today'::date - 7, pg_temp.artist(2), 'T', '30d', 99, 1);
set local role service_role;
select results_eq(
  $$select * from coliseum.leaderboard('T', '30d', 3, 1)$$,
  $$values (2, pg_temp.artist(3), 30::float8, null::float8, null::int),
           (3, pg_temp.artist(4), 20, null, null),
           (4, pg_temp.artist(1), 10, null, null)$$,
  'T 30d without history 30 days ago: ranks, and no change or previous rank'
);

select results_eq($$select * from public.coliseum_leaderboard_a_7d$$, $$select * from coliseum.leaderboard('A', '7d')$$,
                  'the A 7d view returns what the RPC returns');
select results_eq($$select * from public.coliseum_leaderboard_a_30d$$, $$select * from coliseum.leaderboard('A', '30d')$$,
                  'the A 30d view returns what the RPC returns');
select results_eq($$select * from public.coliseum_leaderboard_a_alltime$$, $$select * from coliseum.leaderboard('A', 'alltime')$$,
                  'the A alltime view returns what the RPC returns');
select is((select array_agg(rank order by rank) from public.coliseum_leaderboard_a_7d), array[1, 2, 3, 4, 5],
          'view ranks are 1..n without gaps, ties included');
reset role;

-- The same for a plan-limited reader: the free plan's top 10 holds all five.
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', gen_random_uuid(), 'role', 'authenticated')::text, true) is not null as set \gset
select results_eq(
  $$select * from coliseum.leaderboard('A', '7d', 3)$$,
  $$values (1, pg_temp.artist(1), 90::float8, 5::float8, 2),
           (2, pg_temp.artist(2), 80, -2, 3),
           (3, pg_temp.artist(3), 80, null, null)$$,
  'a free user gets the same rows'
);
select results_eq($$select * from public.coliseum_leaderboard_a_7d$$,
                  $$select * from coliseum.leaderboard('A', '7d', 10)$$,
                  'a free user''s view returns what their RPC returns');
select is((select array_agg(artist_id order by score desc, artist_id) from public.coliseum_domain_strength where domain = 'A' and period = '7d'),
          (select array_agg(artist_id order by rank) from coliseum.leaderboard('A', '7d', 10)),
          'the table shows a free user the same rows');
reset role;

select * from finish();
rollback;
