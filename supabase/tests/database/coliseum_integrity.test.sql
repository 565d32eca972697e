-- Coliseum integrity (issue 12): the counting rules, the attack replay, incremental
-- processing == rebuild under the rules, the suspicion signals and who may read the
-- integrity report.
--
-- The attack as it was tried: one fan, 34,000 plays at one brand-new artist in 20 s.
-- It must move that artist no higher than the same fan's genuine day (50 plays of five
-- tracks spread over the day before) moves another, and 1,000 fans playing a little
-- must still beat it.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(35);

-- A running processor waits until this test ends (see coliseum_dna_rebuild.test.sql).
lock table public.coliseum_dna_mutations, coliseum.fan_genres, coliseum.fans in exclusive mode;
select coliseum.process_pending(1000000) >= 0 as flushed \gset
select now() as t \gset
-- The attack's 20 seconds lie in one 30-minute slot of the UTC clock: they end at t, or, when t is in
-- its slot's first 30 seconds, one second before that slot began. Across a slot boundary twice the
-- plays would count and the comparisons below would depend on the minute the test runs.
select case when extract(epoch from :'t'::timestamptz) % 1800 < 30
            then :'t'::timestamptz - (extract(epoch from :'t'::timestamptz) % 1800 + 1) * interval '1 second'
            else :'t'::timestamptz end as attack_end \gset

select
  'f1000000-0000-4000-8000-000000000001'::uuid as mallory,  -- the attacker, signed up yesterday
  'f1000000-0000-4000-8000-000000000002'::uuid as rules_fan,
  'a1000000-0000-4000-8000-000000000001'::uuid as attacked,  -- brand new, only the attack
  'a1000000-0000-4000-8000-000000000002'::uuid as genuine,   -- the same fan's genuine day
  'a1000000-0000-4000-8000-000000000003'::uuid as crowd,     -- 1,000 fans, three plays each
  'a1000000-0000-4000-8000-000000000004'::uuid as rules_artist,
  'a1000000-0000-4000-8000-000000000005'::uuid as admin \gset

insert into auth.users (id, created_at) values (:'mallory', :'t'::timestamptz - interval '1 day');
insert into auth.users (id, created_at)
select ('c1000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, :'t'::timestamptz - interval '400 days'
from generate_series(1, 1000) as i;

-- A track's id and genre: the attack and the genuine day draw from the same five genres.
create temp table plays_log (user_id uuid, artist_id uuid, track int, occurred_at timestamptz, tag text) on commit drop;
insert into plays_log
select :'mallory', :'attacked', i, :'attack_end'::timestamptz - interval '20 seconds' + i * interval '20 seconds' / 34000, 'attack'
from generate_series(0, 33999) as i;
insert into plays_log
select :'mallory', :'genuine', i % 5, :'t'::timestamptz - interval '24 hours' + i * interval '28 minutes', 'genuine'
from generate_series(0, 49) as i;
insert into plays_log
select ('c1000000-0000-4000-8000-' || lpad(to_hex(1 + i / 3), 12, '0'))::uuid, :'crowd', i % 5,
       :'t'::timestamptz - interval '2 hours' + (i % 97) * interval '1 minute', 'crowd'
from generate_series(0, 2999) as i;

-- The rules by hand, for one fan and artist on the day before (slots of the UTC clock):
-- slot 10:00-10:30, track 1 three times (counts once), then tracks 2..11 (2..10 count: the
-- slot's 10th distinct track is 10, track 11 is the 11th); then one new track per slot from
-- 11:00 on, 25 of them: day ranks 11..35 (11..30 weigh half, 31.. nothing).
select (date_trunc('day', :'t'::timestamptz, 'UTC') - interval '1 day' + interval '10 hours') as ten \gset
insert into plays_log values
  (:'rules_fan', :'rules_artist', 1, :'ten'::timestamptz + interval '1 minute', 'rule-repeat-first'),
  (:'rules_fan', :'rules_artist', 1, :'ten'::timestamptz + interval '2 minutes', 'rule-repeat'),
  (:'rules_fan', :'rules_artist', 1, :'ten'::timestamptz + interval '29 minutes', 'rule-repeat');
insert into plays_log
select :'rules_fan', :'rules_artist', k, :'ten'::timestamptz + interval '3 minutes' + k * interval '1 minute',
       case when k <= 10 then 'rule-slot-counted' else 'rule-slot-full' end
from generate_series(2, 11) as k;
insert into plays_log
select :'rules_fan', :'rules_artist', 100 + k, :'ten'::timestamptz + interval '1 hour' + k * interval '30 minutes',
       'rule-day-' || (10 + k)
from generate_series(1, 25) as k;

insert into public.passport_entries (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
select p.user_id, 'audio.play', p.artist_id,
       jsonb_build_object('track_id', 'b1000000-0000-4000-8000-' || lpad(to_hex(p.track), 12, '0'), 'duration_ms', 31000,
                          'genre', (array['afrobeats', 'highlife', 'jazz', 'amapiano', 'benga'])[1 + p.track % 5]),
       p.occurred_at, 'integrity-' || p.tag || '-' || row_number() over (), 'app'
from plays_log as p
order by p.occurred_at;

-- Incrementally, in batches that cut the attack and the days anywhere.
do $$ begin while coliseum.process_pending(7919) > 0 loop end loop; end $$;

-- 1-5: the rules, one play at a time.
create temp table units_by_tag on commit drop as
select e.client_event_id as tag, e.occurred_at, m.units
from public.passport_entries as e
join public.coliseum_dna_mutations as m on m.entry_id = e.id and m.domain = 'T'
where e.user_id = :'rules_fan';
select is((select array_agg(units order by occurred_at) from units_by_tag where tag like 'integrity-rule-repeat%'),
          '{10,0,0}'::bigint[], 'a track played three times in one 30-minute slot counts once');
select is((select array_agg(units order by occurred_at) from units_by_tag where tag like 'integrity-rule-slot-%'),
          '{10,10,10,10,10,10,10,10,10,0}'::bigint[], 'the 11th distinct track of a fan in one slot does not count');
select is((select array_agg(m.units order by e.occurred_at) from public.passport_entries as e
           join public.coliseum_dna_mutations as m on m.entry_id = e.id and m.domain = 'A'
           where e.client_event_id like 'integrity-rule-day-%'),
          array_cat(array_fill(5::bigint, array[20]), array_fill(0::bigint, array[5])),
          'counted plays 11 to 30 of a fan''s day weigh half, later ones nothing');
select is((select (counted_plays, units, cardinality(tracks)) from coliseum_private.fan_days
           where artist_id = :'rules_artist' and fan_id = :'rules_fan' and day = (:'ten'::timestamptz at time zone 'UTC')::date),
          row(35::bigint, 200::bigint, 35), 'fan_days: 35 ranked plays and their tracks, 10 x 10 + 20 x 5 units (the day''s cap)');
select is((select count(*) from public.coliseum_dna_mutations where artist_id = :'rules_artist'), 76::bigint,
          'plays that do not count still make their mutations (the log is complete)');

-- 6-15: the attack replay.
select is((select count(*) from public.coliseum_dna_mutations where artist_id = :'attacked' and domain = 'T'), 34000::bigint,
          'the 34,000 attack plays are all in the log of mutations');
select ok((select sum(units) from public.coliseum_dna_mutations where artist_id = :'attacked' and domain = 'T') <= 150,
          'of them, at most 20 count (10 per 30-minute slot, 20 s touch at most two): 150 units or less');
select ok((select score from public.coliseum_domain_strength where artist_id = :'attacked' and domain = 'overall' and period = '7d')
          <= (select score from public.coliseum_domain_strength where artist_id = :'genuine' and domain = 'overall' and period = '7d'),
          'the attack moves its artist no higher (overall, 7d) than the same fan''s genuine day');
select ok((select bool_and(x.score <= g.score)
           from public.coliseum_domain_strength as x
           join public.coliseum_domain_strength as g on g.domain = x.domain and g.period = x.period and g.artist_id = :'genuine'
           where x.artist_id = :'attacked'),
          'nor in any domain or period');
select ok((select score from public.coliseum_domain_strength where artist_id = :'crowd' and domain = 'overall' and period = '7d')
          > (select score from public.coliseum_domain_strength where artist_id = :'genuine' and domain = 'overall' and period = '7d'),
          '1,000 fans playing a little beat the genuine day');
select ok((select score from public.coliseum_domain_strength where artist_id = :'crowd' and domain = 'overall' and period = '7d')
          > (select score from public.coliseum_domain_strength where artist_id = :'attacked' and domain = 'overall' and period = '7d') + 10,
          'and beat the attack by more than 10 points');
select results_eq(
  format($$select artist_id from public.coliseum_domain_strength
           where artist_id in (%L, %L, %L) and domain = 'A' and period = '7d' order by score desc, artist_id$$,
         :'attacked', :'genuine', :'crowd'),
  format($$values (%L::uuid), (%L::uuid), (%L::uuid)$$, :'crowd', :'genuine', :'attacked'),
  'board A / 7d: the crowd, then the genuine day, then the attack');
select is((select events from public.coliseum_domain_strength where artist_id = :'attacked' and domain = 'overall' and period = '7d'),
          34000::bigint, 'the board still says what happened: 34,000 events');
select is((select fans from public.coliseum_domain_strength where artist_id = :'attacked' and domain = 'overall' and period = '7d'),
          1::bigint, 'from one fan');
select ok((select score from public.coliseum_domain_strength where artist_id = :'attacked' and domain = 'overall' and period = '7d')
          < 20, 'an attack that scored 69 before now scores under 20');

-- 16-23: the signals, as of the processing (the refresh computes them).
select is((select (top_fan_id, top_fan_share, new_account_share, entries_24h, entries_7d, fans_7d)
           from coliseum_private.artist_signals where artist_id = :'attacked'),
          row(:'mallory'::uuid, 1::double precision, 1::double precision, 34000::bigint, 34000::bigint, 1::bigint),
          'attacked: one fan has all of it, from an account a day old, 34,000 entries in 24 h');
select is((select (velocity, suspicion) from coliseum_private.artist_signals where artist_id = :'attacked'),
          row(34000::double precision, 1::double precision),
          'velocity 34,000 (no history: the daily mean counts as 1), suspicion 1');
select is((select (top_fan_share, new_account_share) from coliseum_private.artist_signals where artist_id = :'crowd'),
          row(0.001::double precision, 0::double precision), 'crowd: the top fan has a thousandth, no new accounts');
select is((select jsonb_array_length(top_fans) from coliseum_private.artist_signals where artist_id = :'crowd'), 5,
          'the report keeps the top five fans');
select is((select top_fans -> 0 ->> 'fan_id' from coliseum_private.artist_signals where artist_id = :'attacked'), :'mallory',
          'the attacked artist''s top fan is the attacker');
select ok((select s.suspicion from coliseum_private.artist_signals as s where s.artist_id = :'attacked')
          > (select s.suspicion from coliseum_private.artist_signals as s where s.artist_id = :'genuine')
          and (select s.suspicion from coliseum_private.artist_signals as s where s.artist_id = :'genuine')
          > (select s.suspicion from coliseum_private.artist_signals as s where s.artist_id = :'crowd'),
          'suspicion: the attack, then one new fan''s day, then the crowd');
select is((select velocity from coliseum_private.artist_signals where artist_id = :'genuine'),
          (select count(*)::double precision from plays_log
           where tag = 'genuine' and date_trunc('hour', occurred_at, 'UTC') > :'t'::timestamptz - interval '24 hours'),
          'velocity counts the entries of the hour buckets of the last 24 hours (no history: the daily mean counts as 1)');
-- An artist with a history: 28 days of 10 entries a day, then 300 in the last hour.
select '0e000000-0000-4000-8000-000000000001'::uuid as steady \gset
insert into public.passport_entries (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
select ('c1000000-0000-4000-8000-' || lpad(to_hex(1 + i % 1000), 12, '0'))::uuid, 'audio.play', :'steady',
       jsonb_build_object('track_id', 'b1000000-0000-4000-8000-000000000001', 'duration_ms', 31000),
       case when i < 280 then :'t'::timestamptz - interval '47 hours' - (i / 10) * interval '1 day'
            else :'t'::timestamptz - interval '1 hour' + (i - 280) * interval '1 second' end,
       'integrity-steady-' || i, 'app'
from generate_series(0, 579) as i;
select coliseum.process_pending(1000000) as steady_processed \gset
select is((select (entries_24h, daily_mean_28d, velocity) from coliseum_private.artist_signals where artist_id = :'steady'),
          row(300::bigint, 10::double precision, 30::double precision),
          'velocity against the artist''s own history: 300 in 24 h over a mean of 10 a day is 30');

-- 24-27: incremental == rebuild, under the rules.
create temp table before_rebuild on commit drop as
select m.entry_id, m.domain, m.units, m.rules_version from public.coliseum_dna_mutations as m
where m.artist_id in (:'attacked', :'genuine', :'crowd', :'rules_artist', :'steady');
create temp table strength_before on commit drop as
select s.artist_id, s.domain, s.period, s.score, s.raw, s.components, s.events, s.fans from public.coliseum_domain_strength as s
where s.artist_id in (:'attacked', :'genuine', :'crowd', :'rules_artist', :'steady');
create temp table state_before on commit drop as
select d.* from coliseum_private.fan_days as d
where d.artist_id in (:'attacked', :'genuine', :'crowd', :'rules_artist', :'steady');
select coliseum.rebuild(:'t'::timestamptz) > 0 as rebuilt \gset
select set_eq(
  format($$select m.entry_id, m.domain, m.units, m.rules_version from public.coliseum_dna_mutations as m
           where m.artist_id in (%L, %L, %L, %L, %L)$$, :'attacked', :'genuine', :'crowd', :'rules_artist', :'steady'),
  'select * from before_rebuild',
  'rebuild gives every mutation the units incremental processing gave it');
select set_eq(
  format($$select d.* from coliseum_private.fan_days as d where d.artist_id in (%L, %L, %L, %L, %L)$$,
         :'attacked', :'genuine', :'crowd', :'rules_artist', :'steady'),
  'select * from state_before',
  'and the same fan days, with the same tracks counted in each slot');
select set_eq(
  format($$select s.artist_id, s.domain, s.period, s.score, s.raw, s.components, s.events, s.fans from public.coliseum_domain_strength as s
           where s.artist_id in (%L, %L, %L, %L, %L)$$, :'attacked', :'genuine', :'crowd', :'rules_artist', :'steady'),
  'select * from strength_before',
  'and the same strength rows, bit for bit');
select is((select count(*) from coliseum_private.artist_signals where artist_id in (:'attacked', :'genuine', :'crowd', :'steady')),
          4::bigint, 'rebuild recomputes the signals of every artist it scores');

-- 28-35: the report, for admins only; the tables behind it for nobody.
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap integrity');
set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select is((select r.artist_id from coliseum.integrity_report(1) as r), :'attacked'::uuid,
          'service_role: the attacked artist heads the report');
select is((select (r.top_fans -> 0 ->> 'share')::double precision from coliseum.integrity_report(10) as r where r.artist_id = :'attacked'), 1::double precision,
          'with its top fan and the fan''s share');
select coliseum.hold_artist(:'attacked', 'one fan, 34,000 plays in 20 s', jsonb_build_object('top_fan', :'mallory')) is not null as held \gset
select is((select array_agg(r.held order by r.suspicion desc) from coliseum.integrity_report(1000, 0.5) as r
           where r.artist_id in (:'attacked', :'genuine')), '{t,f}'::boolean[],
          'an artist held off the boards says so in the report');
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'admin', 'role', 'authenticated')::text, true) as claims \gset
select ok((select count(*) from coliseum.integrity_report(1000, 0.5) as r where r.artist_id in (:'attacked', :'genuine')) = 2,
          'a Treasury admin reads it too (suspicion 0.5 and above)');
select set_config('request.jwt.claims', json_build_object('sub', :'mallory', 'role', 'authenticated')::text, true) as claims \gset
select throws_ok('select * from coliseum.integrity_report()', '42501', 'coliseum.integrity_report is for admins',
                 'a signed-in fan may not read it');
select throws_ok('select count(*) from coliseum_private.artist_signals', '42501', null,
                 'nor the signals table behind it');
select throws_ok('select count(*) from coliseum_private.fan_days', '42501', null, 'nor the fan days');
reset role;
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok('select * from coliseum.integrity_report()', '42501', null, 'anon may not call it');
reset role;

select * from finish();
rollback;
