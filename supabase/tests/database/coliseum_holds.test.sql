-- Coliseum: admins hold an artist off the boards and release them. Who may, the errors, the
-- Passport entries that keep both in the log, every board path leaving a held artist out (ranks
-- close over them) and taking them back on release without a rebuild, the profile's `held`, and
-- who reads the holds table.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(42);

-- Artist n is a0000000-0000-4000-8000-00000000000n: ids order as n does.
create function pg_temp.artist(n int) returns uuid language sql immutable as $$
  select ('a0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid
$$;
grant execute on function pg_temp.artist(int) to anon, authenticated, service_role;

-- Acts as a signed-in user (null: anon) or the service role until `reset role`.
create function pg_temp.act_as(who uuid) returns void language sql as $$
  select set_config('role', case when who is null then 'anon' else 'authenticated' end, true),
         set_config('request.jwt.claims', case when who is null then '{"role": "anon"}'
                                               else json_build_object('sub', who, 'role', 'authenticated')::text end, true);
$$;
create function pg_temp.act_as_service() returns void language sql as $$
  select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true);
$$;

select gen_random_uuid() as fan, gen_random_uuid() as admin, gen_random_uuid() as stranger,
       gen_random_uuid() as big_reader, pg_temp.artist(2) as held \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap');
delete from coliseum.user_plans;
insert into coliseum.user_plans (user_id, plan) values (:'big_reader', 'enterprise');

-- Coliseum knows artists 1-4: a follow of each is folded into DNA. The boards are then set by hand.
select count(passport.log(:'fan', 'social.follow', 'hold-follow-' || n, '{}', pg_temp.artist(n))) as logged
from generate_series(1, 4) as n \gset
select coliseum.process_pending(1000000) >= 0 as folded \gset
delete from public.coliseum_domain_strength;
delete from coliseum.strength_history;
insert into public.coliseum_domain_strength (artist_id, domain, period, score, raw, components, events, fans, computed_at)
select pg_temp.artist(n), 'A', p, s, 1, '{}', 1, 1, now()
from (values (1, '7d', 90.0), (2, '7d', 80.0), (3, '7d', 70.0), (4, '7d', 60.0),
             (1, '30d', 50.0), (2, '30d', 40.0)) as t(n, p, s);

-- Who may hold and release ------------------------------------------------------------------------------------

select pg_temp.act_as(null);
select throws_ok(format($$select coliseum.hold_artist(%L, 'bought plays')$$, :'held'), '42501',
                 'permission denied for function hold_artist', 'anon cannot hold an artist');
reset role;
select pg_temp.act_as(:'stranger');
select throws_ok(format($$select coliseum.hold_artist(%L, 'bought plays')$$, :'held'), '42501',
                 'holding an artist is for admins', 'a user who is no admin cannot hold an artist');
select throws_ok(format($$select coliseum.release_artist(%L, 'fine')$$, :'held'), '42501',
                 'releasing an artist is for admins', 'nor release one');
reset role;

-- Arguments and states ------------------------------------------------------------------------------------------

select pg_temp.act_as(:'admin');
select throws_ok($$select coliseum.hold_artist(null, 'bought plays')$$, '22023', 'artist_id is required', 'artist_id is required');
select throws_ok(format($$select coliseum.hold_artist(%L, '  ')$$, :'held'), '22023',
                 'reason must be a text of 1 to 500 characters', 'a reason is required');
select throws_ok(format($$select coliseum.hold_artist(%L, 'x', '[1]')$$, :'held'), '22023',
                 'evidence must be a JSON object', 'evidence is an object');
select throws_ok(format($$select coliseum.hold_artist(%L, 'x', '{}', now() + interval '1 day')$$, :'held'), '22023',
                 null, 'the held activity cannot start in the future');
select gen_random_uuid() as nobody \gset
select throws_ok(format($$select coliseum.hold_artist(%L, 'bought plays')$$, :'nobody'), 'P0002',
                 format('unknown artist %s', :'nobody'), 'an unknown artist is refused, not held');
select throws_ok(format($$select coliseum.release_artist(%L, 'fine')$$, :'nobody'), 'P0002',
                 format('unknown artist %s', :'nobody'), 'and not released');
select throws_ok(format($$select coliseum.release_artist(%L, 'fine')$$, :'held'), '55000',
                 format('artist %s is not held', :'held'), 'an artist who is not held cannot be released');

select (coliseum.hold_artist(:'held', 'one fan made 97% of the plays', '{"top_fan_share": 0.97}')).id as hold \gset
select results_eq(
  format($$select artist_id, reason, evidence, held_by, activity_since, released_at from coliseum.artist_holds where id = %L$$, :'hold'),
  format($$values (%L::uuid, 'one fan made 97%% of the plays', '{"top_fan_share": 0.97}'::jsonb, %L::uuid,
                   null::timestamptz, null::timestamptz)$$, :'held', :'admin'),
  'an admin holds an artist: reason, evidence and who are kept'
);
select throws_ok(format($$select coliseum.hold_artist(%L, 'again')$$, :'held'), '55000', null,
                 'an artist who is held already cannot be held twice');
reset role;

-- The log keeps it --------------------------------------------------------------------------------------------------

select results_eq(
  format($$select e.kind, e.user_id, e.artist_id, e.source, e.payload
           from coliseum.artist_holds as h join public.passport_entries as e on e.id = h.held_entry_id where h.id = %L$$, :'hold'),
  format($$values ('coliseum.artist_held', %L::uuid, %L::uuid, 'system',
                   jsonb_build_object('hold_id', %L::text, 'reason', 'one fan made 97%% of the plays'))$$, :'held', :'held', :'hold'),
  'the hold is a Passport entry of the artist, and the hold row names it'
);
select is((select code from passport.check_event('coliseum.artist_held', 'app', :'held', jsonb_build_object('hold_id', :'hold', 'reason', 'x'))),
          'forbidden_kind', 'the app cannot log a hold: only the system can');

-- Every board path leaves the held artist out ------------------------------------------------------------------

select pg_temp.act_as_service();
select results_eq($$select rank, artist_id, score from coliseum.leaderboard('A', '7d')$$,
                  $$values (1, pg_temp.artist(1), 90::float8), (2, pg_temp.artist(3), 70), (3, pg_temp.artist(4), 60)$$,
                  'the leaderboard skips the held artist and the ranks close over them');
select results_eq($$select rank, artist_id from coliseum.leaderboard('A', '30d')$$,
                  $$values (1, pg_temp.artist(1))$$, 'on every board');
select results_eq($$select rank, artist_id from coliseum.leaderboard('A', '7d', 2, 1)$$,
                  $$values (2, pg_temp.artist(3)), (3, pg_temp.artist(4))$$, 'pages too');
select is((coliseum.artist_profile(pg_temp.artist(3)) #>> '{boards,A,7d,rank}')::int, 2,
          'another artist''s profile ranks them without the held artist');
reset role;
select pg_temp.act_as(null);
select results_eq($$select rank, artist_id from public.coliseum_leaderboard_a_7d$$,
                  $$values (1, pg_temp.artist(1)), (2, pg_temp.artist(3)), (3, pg_temp.artist(4))$$, 'the views as anon');
select results_eq($$select artist_id from public.coliseum_domain_strength where domain = 'A' and period = '7d' order by score desc$$,
                  $$values (pg_temp.artist(1)), (pg_temp.artist(3)), (pg_temp.artist(4))$$,
                  'the table as anon (a plan with a depth)');
reset role;
select pg_temp.act_as(:'big_reader');
select results_eq($$select artist_id from public.coliseum_domain_strength where domain = 'A' and period = '7d' order by score desc$$,
                  $$values (pg_temp.artist(1)), (pg_temp.artist(3)), (pg_temp.artist(4))$$,
                  'the table as enterprise (boards shown in full)');
select is((select count(*) from public.coliseum_leaderboard_a_7d where artist_id = pg_temp.artist(2)), 0::bigint,
          'and the views as enterprise');
reset role;

-- The profile says held -----------------------------------------------------------------------------------------

select pg_temp.act_as(null);
select is(coliseum.artist_profile(:'held'),
          jsonb_build_object('artist_id', :'held'::uuid, 'plan', 'public', 'held', true, 'boards', null, 'history', null, 'growth', null),
          'anon: held, nothing of the boards, and not why');
reset role;
select pg_temp.act_as(:'held');
select results_eq(
  format($$select p ->> 'held', p #>> '{hold,id}', p #>> '{hold,reason}', p #>> '{boards,A,7d,score}', p #>> '{boards,A,7d,rank}'
           from coliseum.artist_profile(%L) as p$$, :'held'),
  format($$values ('true', %L, 'one fan made 97%% of the plays', '80', null::text)$$, :'hold'),
  'the artist: held and why, their own scores, and no rank'
);
select is((select count(*) from public.coliseum_domain_strength where artist_id = pg_temp.artist(2)), 2::bigint,
          'the artist still reads their own rows of the table');
select is((select count(*) from coliseum.artist_holds), 0::bigint, 'but not the holds table (the evidence names other users)');
select results_eq(format($$select kind from passport.timeline() where artist_id = %L$$, :'held'),
                  $$values ('coliseum.artist_held')$$, 'the hold is in the artist''s own timeline');
reset role;
select pg_temp.act_as(:'admin');
select results_eq(format($$select p ->> 'held', p #>> '{hold,reason}', p -> 'boards' from coliseum.artist_profile(%L) as p$$, :'held'),
                  $$values ('true', 'one fan made 97% of the plays', 'null'::jsonb)$$,
                  'an admin (on the free plan) reads why, not the boards');
select is((select count(*) from coliseum.artist_holds where artist_id = :'held'), 1::bigint, 'an admin reads the holds table');
select throws_ok(format($$update coliseum.artist_holds set released_at = now() where id = %L$$, :'hold'), '42501', null,
                 'nobody writes the holds table, an admin neither');
reset role;
select pg_temp.act_as(:'stranger');
select is((select count(*) from coliseum.artist_holds), 0::bigint, 'another user reads no hold');
select is(coliseum.artist_profile(pg_temp.artist(1)) ->> 'held', 'false', 'an artist who is not held: held false');
reset role;
select pg_temp.act_as(null);
select throws_ok($$select * from coliseum.artist_holds$$, '42501', 'permission denied for table artist_holds', 'anon reads nothing');
reset role;

-- Release: back on the boards at once ---------------------------------------------------------------------------

select pg_temp.act_as_service();
select results_eq(
  format($$select h.id, h.released_by, h.release_reason, h.released_at is not null
           from coliseum.release_artist(%L, 'reviewed: the fans are real') as h$$, :'held'),
  format($$values (%L::uuid, null::uuid, 'reviewed: the fans are real', true)$$, :'hold'),
  'the service role releases the hold'
);
select results_eq(
  format($$select e.kind, e.payload from coliseum.artist_holds as h join public.passport_entries as e on e.id = h.released_entry_id
           where h.id = %L$$, :'hold'),
  format($$values ('coliseum.artist_released', jsonb_build_object('hold_id', %L::text, 'reason', 'reviewed: the fans are real'))$$, :'hold'),
  'the release is a Passport entry too, named by the hold row'
);
select results_eq($$select rank, artist_id from coliseum.leaderboard('A', '7d')$$,
                  $$values (1, pg_temp.artist(1)), (2, pg_temp.artist(2)), (3, pg_temp.artist(3)), (4, pg_temp.artist(4))$$,
                  'the artist is back on the board with nothing rebuilt');
select throws_ok(format($$select coliseum.release_artist(%L, 'again')$$, :'held'), '55000', null, 'a release is not repeated');
reset role;
select pg_temp.act_as(null);
select is((select count(*) from public.coliseum_leaderboard_a_7d where artist_id = pg_temp.artist(2)), 1::bigint,
          'anon sees them again');
select is(coliseum.artist_profile(:'held') #>> '{boards,A,7d,rank}', '2', 'with their rank on the profile');
reset role;

-- The history stays: a second hold is a new row --------------------------------------------------------------

select pg_temp.act_as(:'admin');
select (coliseum.hold_artist(:'held', 'plays spiked again', '{}', now() - interval '2 days')).id as second_hold \gset
reset role;
select results_eq(
  format($$select id, released_at is null from coliseum.artist_holds where artist_id = %L order by held_at, released_at nulls last$$, :'held'),
  format($$values (%L::uuid, false), (%L::uuid, true)$$, :'hold', :'second_hold'),
  'both holds are kept, one open'
);
select results_eq(
  format($$select kind from public.passport_entries where user_id = %L order by id$$, :'held'),
  $$values ('coliseum.artist_held'), ('coliseum.artist_released'), ('coliseum.artist_held')$$,
  'and the artist''s log has each hold and release in order'
);
select is((select payload ->> 'activity_since' from public.passport_entries as e
           join coliseum.artist_holds as h on h.held_entry_id = e.id where h.id = :'second_hold')::timestamptz,
          now() - interval '2 days', 'the logged hold says where the held activity starts');

select * from finish();
rollback;
