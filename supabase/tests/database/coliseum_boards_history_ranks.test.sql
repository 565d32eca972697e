-- Coliseum boards: the stored ranks of the reference days (coliseum_private.history_ranks, written by
-- coliseum_private.rank_history_days) give the same change and previous_rank as ranking the day at read
-- time; any write of a ranked day sends the boards back to ranking it until it is ranked again; held
-- artists are subtracted; today's rows (the refresh's) are not counted; old days are dropped; the cron job.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(32);

\ir coliseum_boards_helpers.psql
delete from coliseum_private.history_ranks;
delete from coliseum_private.history_days;

-- One board page as text rows, to compare an answer with another.
create function pg_temp.page(domain text, period text, lim int default 10, off int default 0) returns text[] language sql as $$
  select coalesce(array_agg(b::text order by b.rank), '{}') from coliseum.leaderboard(domain, period, lim, off) as b
$$;
-- Whether a board's reference day (today's) reads stored ranks.
create function pg_temp.stored(domain text, period text) returns boolean language sql as $$
  select coalesce((select d.ranked_changes = d.changes from coliseum_private.history_days as d
                   where d.domain = $1 and d.period = $2
                     and d.day = coliseum_private.reference_day($2, (now() at time zone 'UTC')::date)), false)
$$;
-- The stored ranks' key names each board by a small number: one of its own for each of the 15.
select is((select count(distinct coliseum_private.board_number(d, p))::int
           from unnest(array['A', 'T', 'G', 'C', 'overall']) as d, unnest(array['7d', '30d', 'alltime']) as p
           where coliseum_private.board_number(d, p) is not null), 15, 'each of the 15 boards has a number of its own');
select is(array[coliseum_private.board_number('X', '7d'), coliseum_private.board_number('A', '1d'),
                coliseum_private.board_number(null, '7d')], array[null, null, null]::smallint[],
          'no other domain or period has one');

-- The answers of the boards ranking the reference days themselves (nothing is stored yet).
select is(pg_temp.stored('A', '7d'), false, 'before any ranking, the boards rank the reference day themselves');
select pg_temp.page('A', '7d') as scan_a7, pg_temp.page('A', '7d', 2, 2) as scan_a7_deep,
       pg_temp.page('A', '30d') as scan_a30, pg_temp.page('A', 'alltime') as scan_aall \gset

select is(coliseum_private.rank_history_days(), 30, 'the first run ranks the 15 boards'' reference days of today and tomorrow');
select is(coliseum_private.rank_history_days(), 0, 'a second run finds nothing to rank');
select results_eq(
  format($$select artist_id, rank, score from coliseum_private.history_ranks
           where domain = 'A' and period = '7d' and day = %L order by rank$$, :'today'::date - 7),
  $$values (pg_temp.artist(6), 1, 95::float8), (pg_temp.artist(1), 2, 85), (pg_temp.artist(2), 3, 82),
           (pg_temp.artist(7), 4, 82), (pg_temp.artist(4), 5, 75), (pg_temp.artist(5), 6, 60)$$,
  'the stored ranks of A 7d''s reference day: every artist of that day, by score then id'
);
select is(pg_temp.stored('A', '7d'), true, 'A 7d now reads its stored reference ranks');
select is(pg_temp.page('A', '7d'), :'scan_a7'::text[], 'A 7d: the same answer from the stored ranks');
select is(pg_temp.page('A', '7d', 2, 2), :'scan_a7_deep'::text[], 'a page deep in the board: the same answer');
select is(pg_temp.page('A', '30d'), :'scan_a30'::text[], 'A 30d: the same answer');
select is(pg_temp.page('A', 'alltime'), :'scan_aall'::text[], 'A alltime: the same answer');
select is(pg_temp.page('T', '7d'), '{}'::text[], 'an empty board stays empty');

-- The board reads the stored rank (a wrong one shows), and the view does too.
update coliseum_private.history_ranks set rank = 99
where domain = 'A' and period = '7d' and day = :'today'::date - 7 and artist_id = pg_temp.artist(1);
select is((select previous_rank from coliseum.leaderboard('A', '7d', 1)), 99, 'the board reads previous_rank from the stored ranks');
select is((select previous_rank from public.coliseum_leaderboard_a_7d where rank = 1), 99, 'and so does the view');
-- A page switches the planner to its generic plan without hash or merge joins; the caller's settings stay its own.
set local plan_cache_mode = force_custom_plan;
set local enable_hashjoin = on;
set local enable_mergejoin = on;
select count(*) from coliseum.leaderboard('A', '7d', 10) as _page \gset
select is(array[current_setting('plan_cache_mode'), current_setting('enable_hashjoin'), current_setting('enable_mergejoin')],
          array['force_custom_plan', 'on', 'on'], 'a page leaves the caller''s planner settings as they were');
reset plan_cache_mode;
update coliseum_private.history_ranks set rank = 2
where domain = 'A' and period = '7d' and day = :'today'::date - 7 and artist_id = pg_temp.artist(1);

-- A write of the ranked day: the boards rank it themselves again, with the new score.
update coliseum.strength_history set score = 99
where day = :'today'::date - 7 and domain = 'A' and period = '7d' and artist_id = pg_temp.artist(7);
select is(pg_temp.stored('A', '7d'), false, 'an update of a ranked day invalidates its stored ranks');
select results_eq(
  $$select * from coliseum.leaderboard('A', '7d')$$,
  $$values (1, pg_temp.artist(1), 90::float8, 5::float8, 3),
           (2, pg_temp.artist(2), 80, -2, 4),
           (3, pg_temp.artist(3), 80, null, null),
           (4, pg_temp.artist(4), 70, -5, 5),
           (5, pg_temp.artist(5), 60, 0, 6)$$,
  'the invalidated day is ranked at read time, with the new score'
);
select pg_temp.page('A', '7d') as rewritten_a7 \gset
select is(coliseum_private.rank_history_days(), 1, 'the next run ranks that board day again, and only it');
select is(pg_temp.page('A', '7d'), :'rewritten_a7'::text[], 'the same answer from the new stored ranks');

-- Two writes in one transaction count once; a delete counts.
select changes as changes_before from coliseum_private.history_days
where domain = 'A' and period = '7d' and day = :'today'::date - 7 \gset
delete from coliseum.strength_history where day = :'today'::date - 7 and domain = 'A' and period = '7d' and artist_id = pg_temp.artist(6);
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw)
values (:'today'::date - 7, pg_temp.artist(8), 'A', '7d', 1, 1);
select is((select changes from coliseum_private.history_days where domain = 'A' and period = '7d' and day = :'today'::date - 7),
          :changes_before::bigint + 1, 'a delete and an insert of one transaction count as one change');
select is(coliseum_private.rank_history_days(), 1, 'and the day is ranked again');

-- Held artists are on neither board: the stored ranks are read with those held ahead subtracted.
-- Reference day now: 7 (99), 1 (85), 2 (82), 4 (75), 5 (60), 8 (1). Artist 7 (not on today's board)
-- and artist 2 are held.
insert into coliseum.artist_holds (artist_id, reason, held_entry_id)
values (pg_temp.artist(7), 'test hold', 0), (pg_temp.artist(2), 'test hold', 0);
select is(pg_temp.stored('A', '7d'), true, 'a hold does not touch the stored ranks');
select results_eq(
  $$select * from coliseum.leaderboard('A', '7d')$$,
  $$values (1, pg_temp.artist(1), 90::float8, 5::float8, 1),
           (2, pg_temp.artist(3), 80, null, null),
           (3, pg_temp.artist(4), 70, -5, 2),
           (4, pg_temp.artist(5), 60, 0, 3)$$,
  'with artists held, previous ranks close over them as when ranked at read time'
);
select pg_temp.page('A', '7d') as held_a7 \gset
update coliseum_private.history_days set ranked_changes = null where domain = 'A' and period = '7d';
select is(pg_temp.page('A', '7d'), :'held_a7'::text[], 'ranking the day at read time gives the same answer');
-- A page ranked at read time switches the planner back and forth; the caller's settings stay its own.
set local plan_cache_mode = auto;
set local enable_hashjoin = off;
select count(*) from coliseum.leaderboard('A', '7d', 10) as _page \gset
select is(array[current_setting('plan_cache_mode'), current_setting('enable_hashjoin'), current_setting('enable_mergejoin')],
          array['auto', 'off', 'on'], 'a page ranked at read time leaves the caller''s planner settings as they were');
reset plan_cache_mode;
reset enable_hashjoin;
delete from coliseum.artist_holds where reason = 'test hold';

-- Today's rows, which every refresh writes, are not counted; old days are dropped.
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw)
values (:'today', pg_temp.artist(1), 'A', '7d', 90, 1), (:'today'::date - 40, pg_temp.artist(1), 'A', '7d', 3, 1);
select is((select count(*)::int from coliseum_private.history_days where day = :'today'), 0, 'a write of today''s history is not counted');
select is((select changes from coliseum_private.history_days where domain = 'A' and period = '7d' and day = :'today'::date - 40), 1::bigint,
          'a write of any past day is');
select coliseum_private.rank_history_days() as _ranked \gset
select is((select count(*)::int from coliseum_private.history_days where day not in (:'today'::date - 7, :'today'::date - 6,
                                                                                     :'today'::date - 30, :'today'::date - 29)),
          0, 'the run keeps no day but the reference days of today and tomorrow');

-- TRUNCATE counts for every day.
truncate coliseum.strength_history;
select is((select count(*)::int from coliseum_private.history_days where ranked_changes = changes), 0, 'a truncate invalidates every stored day');
select is(pg_temp.page('A', '7d', 1), array[format('(1,%s,90,,)', pg_temp.artist(1))], 'and the boards have no history');

select is((select schedule || ' ' || command from cron.job where jobname = 'coliseum-rank-history-days'),
          '*/10 * * * * select coliseum_private.rank_history_days()', 'pg_cron ranks the reference days every 10 minutes');
select ok(not has_function_privilege('service_role', 'coliseum_private.rank_history_days()', 'execute')
          and not has_table_privilege('authenticated', 'coliseum_private.history_ranks', 'select')
          and not has_table_privilege('anon', 'coliseum_private.history_days', 'select'),
          'the API roles can neither rank nor read the stored ranks');

select * from finish();
rollback;
