-- Player stats (issue 14, part 5): plays and likes per track and artist, the fan's history and the
-- attendance board, all fed through passport.log and coliseum.process_pending (and a real door scan
-- through concierto.redeem), then re-run and rebuilt without counting twice; who may read what.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(43);

-- Whatever other sessions left pending is folded first.
select coliseum.process_pending(1000000) >= 0 as flushed \gset
\ir concierto_helpers.psql

select gen_random_uuid() as artist, gen_random_uuid() as artist_b, gen_random_uuid() as fan1, gen_random_uuid() as fan2,
       gen_random_uuid() as fan3, gen_random_uuid() as admin, gen_random_uuid() as track1, gen_random_uuid() as track2,
       gen_random_uuid() as track3, gen_random_uuid() as unknown_track,
       'Stats City ' || left(gen_random_uuid()::text, 8) as city,
       -- the start of a 30-minute slot two days ago, so that the plays below share it
       to_timestamp(floor(extract(epoch from now() - interval '2 days') / 1800) * 1800) as t0 \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgTAP player stats');

-- An audio.play as the app logs it.
create function pg_temp.play(fan uuid, artist uuid, track uuid, at timestamptz, duration_ms int default 31000)
returns bigint
language sql
as $$
  select passport.log(fan, 'audio.play', 'stats-play-' || gen_random_uuid(),
                      jsonb_build_object('track_id', track, 'duration_ms', duration_ms), artist, at, 'app')
$$;

create function pg_temp.like(fan uuid, artist uuid, track uuid, kind text)
returns bigint
language sql
as $$
  select passport.log(fan, kind, 'stats-like-' || gen_random_uuid(), jsonb_build_object('track_id', track), artist,
                      now() - interval '1 minute', 'app')
$$;

-- Plays: one counted, its repeat in the same slot, a 29-second play, another fan's plays now, 10 and 40 days ago.
select pg_temp.play(:'fan1', :'artist', :'track1', :'t0'::timestamptz + interval '1 minute');
select pg_temp.play(:'fan1', :'artist', :'track1', :'t0'::timestamptz + interval '2 minutes');
select pg_temp.play(:'fan1', :'artist', :'track2', :'t0'::timestamptz + interval '3 minutes', 29000);
select pg_temp.play(:'fan2', :'artist', :'track1', :'t0'::timestamptz + interval '4 minutes');
select pg_temp.play(:'fan2', :'artist', :'track1', now() - interval '10 days');
select pg_temp.play(:'fan2', :'artist_b', :'track3', now() - interval '40 days');
-- Likes, first batch: two fans like track1; an unlike of a track never liked.
select pg_temp.like(:'fan1', :'artist', :'track1', 'audio.like');
select pg_temp.like(:'fan2', :'artist', :'track1', 'audio.like');
select pg_temp.like(:'fan3', :'artist_b', :'track3', 'audio.unlike');
-- Cut into small batches: the stats must not depend on where the cuts fall.
do $$ begin while coliseum.process_pending(2) > 0 loop end loop; end $$;

-- Likes, second batch: fan2 takes theirs back, fan1 likes again (still one like).
select pg_temp.like(:'fan2', :'artist', :'track1', 'audio.unlike');
select pg_temp.like(:'fan1', :'artist', :'track1', 'audio.like');
select ok(coliseum.process_pending(1000000) >= 2, 'process_pending folds the second batch');

create temp table got_tracks on commit drop as
select * from coliseum.track_stats(array[:'track2', :'track1', :'unknown_track', :'track3', :'track1']::uuid[])
  with ordinality as g(track_id, artist_id, plays, plays_7d, plays_30d, likes, liked, n);

-- 2-10: counting.
select is((select array_agg(track_id order by n) from got_tracks),
          array[:'track2', :'track1', :'unknown_track', :'track3']::uuid[],
          'track_stats answers one row per distinct id, in the order asked');
select is((select (plays, plays_7d, plays_30d) from got_tracks where track_id = :'track1'), row(3::bigint, 2::bigint, 3::bigint),
          'track1: 3 counted plays (the repeat in its slot is not), 2 in the last 7 days, 3 in 30');
select is((select plays from got_tracks where track_id = :'track2'), 0::bigint, 'a 29-second play is not counted');
select is((select (plays, plays_7d, plays_30d) from got_tracks where track_id = :'track3'), row(1::bigint, 0::bigint, 0::bigint),
          'a play 40 days ago counts all time only');
select is((select (artist_id, plays, likes, liked) from got_tracks where track_id = :'unknown_track'),
          row(null::uuid, 0::bigint, 0::bigint, false), 'a track nobody played answers zeros');
select is((select artist_id from got_tracks where track_id = :'track1'), :'artist'::uuid, 'with the artist its plays named');
select is((select likes from got_tracks where track_id = :'track1'), 1::bigint,
          'likes = likes minus unlikes per fan: two likes, one unlike, a repeated like');
select is((select likes from got_tracks where track_id = :'track3'), 0::bigint, 'an unlike of a track never liked takes nothing');
select is((select array_agg(liked order by n) from got_tracks), array[false, false, false, false],
          'liked is false for the test role, which is no signed-in user');

-- 11-13: per artist.
select results_eq(
  format($$select artist_id, plays, plays_7d, plays_30d, likes from coliseum.artist_stats(array[%L, %L]::uuid[])$$,
         :'artist', :'artist_b'),
  format($$values (%L::uuid, 3::bigint, 2::bigint, 3::bigint, 1::bigint), (%L::uuid, 1::bigint, 0::bigint, 0::bigint, 0::bigint)$$,
         :'artist', :'artist_b'),
  'artist_stats sums the counted plays and likes of the artist''s tracks'
);
select throws_ok('select * from coliseum.track_stats(null)', '22023', 'track_ids must be an array of ids, got null',
                 'track_stats refuses a null list');
select throws_ok(format('select * from coliseum.artist_stats(array_fill(%L::uuid, array[501]))', :'artist'), '22023',
                 'artist_ids holds 501 ids; ask for 500 or fewer at once', 'and a list longer than 500');

-- 14-18: the fan's history, as the fan.
select pg_temp.act_as(:'fan1');
select results_eq(
  'select track_id, plays, counted_plays, last_played_at from coliseum.my_history()',
  format($$values (%L::uuid, 2::bigint, 1::bigint, %L::timestamptz)$$, :'track1', :'t0'::timestamptz + interval '2 minutes'),
  'my_history: the tracks the fan played for 30 s or more, with the plays made and counted'
);
select is((select liked from coliseum.track_stats(array[:'track1']::uuid[])), true, 'track_stats says the caller likes track1');
reset role;
select pg_temp.act_as(:'fan2');
select results_eq(
  'select track_id, artist_id, plays, counted_plays from coliseum.my_history()',
  format($$values (%L::uuid, %L::uuid, 2::bigint, 2::bigint), (%L::uuid, %L::uuid, 1::bigint, 1::bigint)$$,
         :'track1', :'artist', :'track3', :'artist_b'),
  'newest first'
);
select results_eq(
  format($$select track_id from coliseum.my_history(1, %L, %L)$$,
         (select last_played_at from coliseum.fan_tracks where fan_id = :'fan2' and track_id = :'track1'), :'track1'),
  format($$values (%L::uuid)$$, :'track3'),
  'keyset: the page after a row starts below it'
);
select is((select liked from coliseum.track_stats(array[:'track1']::uuid[])), false, 'after an unlike, liked is false');
select throws_ok(format($$select * from coliseum.my_history(10, now(), null)$$), '22023',
                 'before_played_at and before_track_id go together: pass both (the last row of a page) or neither',
                 'my_history refuses half a cursor');
reset role;

-- 20-22: a re-run counts nothing twice; a rebuild derives the same stats from the whole log.
create temp table before_rerun on commit drop as
select (select array_agg(t order by t.track_id) from coliseum_private.track_counts as t
        where t.track_id in (:'track1', :'track2', :'track3')) as tracks,
       (select array_agg(f order by f.fan_id, f.track_id) from coliseum.fan_tracks as f where f.fan_id in (:'fan1', :'fan2')) as history,
       (select array_agg(d order by d.track_id, d.day) from coliseum_private.track_play_days as d
        where d.track_id in (:'track1', :'track3')) as days,
       (select array_agg(l order by l.fan_id) from coliseum.track_likes as l where l.track_id = :'track1') as likes;
select coliseum.process_pending(1000000) >= 0 as rerun \gset
select is((select array_agg(t order by t.track_id) from coliseum_private.track_counts as t
           where t.track_id in (:'track1', :'track2', :'track3')), (select tracks from before_rerun),
          'a second process_pending adds nothing to the counters');
select coliseum.rebuild() >= 0 as rebuilt \gset
select is((select array_agg(t order by t.track_id) from coliseum_private.track_counts as t
           where t.track_id in (:'track1', :'track2', :'track3')), (select tracks from before_rerun),
          'rebuild derives the same track counters');
select ok((select array_agg(f order by f.fan_id, f.track_id) from coliseum.fan_tracks as f where f.fan_id in (:'fan1', :'fan2'))
            = (select history from before_rerun)
          and (select array_agg(d order by d.track_id, d.day) from coliseum_private.track_play_days as d
               where d.track_id in (:'track1', :'track3')) = (select days from before_rerun)
          and (select array_agg(l order by l.fan_id) from coliseum.track_likes as l where l.track_id = :'track1')
            = (select likes from before_rerun),
          'and the same history, days and likes');

-- Attendance: a real door scan of an event in the test's own city (buyer: two tickets, one event), and
-- validations logged for past events there (and one elsewhere).
select concierto.create_event(:'host', 'pgTAP stats live', 'The Yard', :'city', 'NG', now() + interval '1 hour',
                              now() - interval '1 hour', 'EUR', 2000, 7000, 1000, array[:'headliner']::uuid[]) as stats_event \gset
select concierto.create_tier(:'stats_event', 'General', 2500, 5) as stats_tier \gset
select pg_temp.buy(:'buyer', :'stats_tier', 2, 'pi_pgtap_stats_1') as so1 \gset
select pg_temp.buy(:'friend', :'stats_tier', 1, 'pi_pgtap_stats_2') as so2 \gset
select is(array[pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'Gate', now())$$, pg_temp.ticket(:'so1', 1), :'stats_event')) ->> 'status',
                pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'Gate', now())$$, pg_temp.ticket(:'so1', 2), :'stats_event')) ->> 'status',
                pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'Gate', now())$$, pg_temp.ticket(:'so2', 1), :'stats_event')) ->> 'status'],
          array['admitted', 'admitted', 'admitted'], 'three tickets of two fans are admitted at the door');

create function pg_temp.attended(fan uuid, city text, country text, ago interval)
returns bigint
language sql
as $$
  select passport.log(fan, 'concierto.ticket_validated', 'stats-door-' || gen_random_uuid(),
                      jsonb_build_object('event_id', gen_random_uuid(), 'ticket_id', gen_random_uuid(), 'city', city,
                                         'country', country),
                      null, now() - ago, 'concierto')
$$;
select pg_temp.attended(:'buyer', :'city', 'NG', a) from unnest(array['3 days', '20 days', '100 days']::interval[]) as a;
select pg_temp.attended(:'friend', :'city', 'NG', a) from unnest(array['5 days', '6 days']::interval[]) as a;
select pg_temp.attended(:'fan3', :'city', 'NG', a) from unnest(array['50 days', '60 days', '70 days', '80 days']::interval[]) as a;
select pg_temp.attended(:'fan3', :'city', 'GH', '1 day');
select coliseum.process_pending(1000000) >= 0 as folded \gset

-- 24-31: the counts and the board per period.
create function pg_temp.board(who uuid, period text, max_rows int default 50)
returns table (rank bigint, fan_id uuid, events bigint, is_caller boolean)
language plpgsql
as $$
begin
  perform pg_temp.act_as(who);
  return query select b.rank, b.fan_id, b.events, b.is_caller
               from coliseum.attendance_board(current_setting('stats.city'), 'ng', period, max_rows) as b;
  reset role;
end
$$;
select set_config('stats.city', :'city', true);
select is((select count(*) from coliseum_private.attendances where fan_id = :'buyer' and city = :'city'), 4::bigint,
          'two tickets to one event are one attendance');
select results_eq(
  format($$select month, fan_id, events, last_attended_at from coliseum_private.attendance_counts
           where city_key = lower(%L) order by month, fan_id$$, :'city'),
  format($$select m.month, a.fan_id, count(*), max(a.attended_at)
           from coliseum_private.attendances as a
           cross join lateral (values (date_trunc('month', a.attended_at, 'UTC')::date), ('-infinity'::date)) as m(month)
           where a.city = %L group by a.country, m.month, a.fan_id order by m.month, a.fan_id$$, :'city'),
  'the month and all-time counts are the attendances counted per UTC calendar month and in all'
);
select results_eq(format($$select rank, fan_id, events, is_caller from pg_temp.board(%L, '7d')$$, :'friend'),
                  format($$values (1::bigint, %L::uuid, 3::bigint, true), (2::bigint, %L::uuid, 2::bigint, false)$$, :'friend', :'buyer'),
                  '7d: the friend (tonight, 5 and 6 days ago) before the buyer (tonight, 3 days ago)');
select results_eq(format($$select rank, events from pg_temp.board(%L, '30d')$$, :'friend'),
                  $$values (1::bigint, 3::bigint), (1::bigint, 3::bigint)$$, '30d: a tie shares the rank');
select results_eq(format($$select rank, fan_id, events from pg_temp.board(%L, 'alltime')$$, :'fan3'),
                  format($$select r, f, e from (values (1::bigint, %1$L::uuid, 4::bigint), (1::bigint, %2$L::uuid, 4::bigint),
                                  (3::bigint, %3$L::uuid, 3::bigint)) as v(r, f, e) order by r, f$$, :'buyer', :'fan3', :'friend'),
                  'alltime: the buyer and fan3 tie at 4 (the Accra event is another city), the friend is third');
select results_eq(format($$select fan_id, events from pg_temp.board(%L, 'month')$$, :'fan3'),
                  format($$(select a.fan_id, count(*) from coliseum_private.attendances as a
                           where a.city = %L and a.country = 'NG' and a.attended_at >= date_trunc('month', now(), 'UTC')
                           group by a.fan_id order by count(*) desc, a.fan_id)
                           union all select %L::uuid, 0::bigint$$, :'city', :'fan3'),
                  'month: the current UTC calendar month, and fan3 (nothing this month) gets their own row with 0');
select results_eq(format($$select rank, fan_id, is_caller from pg_temp.board(%L, 'alltime', 1)$$, :'friend'),
                  format($$values (1::bigint, least(%L::uuid, %L::uuid), false), (3::bigint, %L::uuid, true)$$,
                         :'buyer', :'fan3', :'friend'),
                  'the top max_rows, then the caller''s own rank');
select throws_ok(format($$select * from coliseum.attendance_board(%L, 'NG', 'year')$$, :'city'), '22023',
                 'period must be 7d, 30d, month or alltime, got ''year''', 'an unknown period is refused');

-- 32-43: who may read and write what.
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select is((select plays from coliseum.track_stats(array[:'track1']::uuid[])), 3::bigint, 'anon reads track_stats (public counts)');
select throws_ok('select * from coliseum.my_history()', '42501', 'permission denied for function my_history',
                 'anon may not call my_history');
select throws_ok(format($$select * from coliseum.attendance_board(%L, 'NG')$$, :'city'), '42501',
                 'permission denied for function attendance_board', 'nor read the attendance board');
select throws_ok('select count(*) from coliseum.fan_tracks', '42501', 'permission denied for table fan_tracks',
                 'anon cannot read histories');
reset role;

select pg_temp.act_as(:'fan3');
select is((select count(*) from coliseum.fan_tracks where fan_id in (:'fan1', :'fan2')), 0::bigint,
          'another user sees no one else''s history');
select is((select count(*) from coliseum.track_likes where fan_id in (:'fan1', :'fan2')), 0::bigint, 'nor their likes');
select is((select count(*) from coliseum.track_likes where fan_id = :'fan3'), 1::bigint, 'but their own (an unlike)');
select throws_ok(format($$update coliseum.fan_tracks set plays = 1000 where fan_id = %L$$, :'fan3'), '42501',
                 'permission denied for table fan_tracks', 'a fan cannot write their history');
select throws_ok('select count(*) from coliseum_private.track_counts', '42501', 'permission denied for schema coliseum_private',
                 'nor reach the counters');
reset role;

select pg_temp.act_as(:'admin');
select is((select count(*) from coliseum.fan_tracks where fan_id in (:'fan1', :'fan2')), 0::bigint,
          'an admin reads no one else''s history either');
reset role;

set local role service_role;
select is((select count(*) from coliseum.fan_tracks where fan_id in (:'fan1', :'fan2')), 3::bigint,
          'service_role reads every history');
select throws_ok(format($$insert into coliseum.track_likes values (%L, %L, %L, true, 1, now())$$, :'fan3', :'track1', :'artist'),
                 '42501', 'permission denied for table track_likes', 'service_role cannot write likes: only the processor does');
reset role;

select * from finish();
rollback;
