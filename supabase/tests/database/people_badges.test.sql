-- People: badges (issue 14). Rules as data and their checks; each rule shape driven through
-- passport.log / passport.ingest and coliseum.process_pending (count, counted plays under the
-- counting rules, early supporters, the monthly rank); awarded once under re-processing and races of
-- the backfill with the processor; the badge.earned entry (no DNA) and notification; activation with
-- backfill; who manages and who reads what.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(80);

-- Acts as a signed-in user (null: anon) until `reset role`; or as the service role.
create function pg_temp.act_as(who uuid) returns void language sql as $$
  select set_config('role', case when who is null then 'anon' else 'authenticated' end, true),
         set_config('request.jwt.claims', case when who is null then '{"role": "anon"}'
                                               else json_build_object('sub', who, 'role', 'authenticated')::text end, true);
$$;
create function pg_temp.act_as_service() returns void language sql as $$
  select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true);
$$;

-- n plays of distinct tracks by who of artist, one per 30-minute slot from start (each counts: a new
-- track in its own slot), tagged for their client event ids; duration in ms.
create function pg_temp.plays(who uuid, artist uuid, start timestamptz, n int, tag text, duration int default 31000)
returns bigint language sql as $$
  select max(passport.log(
    user_id => who, kind => 'audio.play', client_event_id => format('pgtap-badges-%s-%s', tag, k),
    payload => jsonb_build_object('track_id', gen_random_uuid(), 'duration_ms', duration),
    artist_id => artist, occurred_at => start + (k - 1) * interval '30 minutes'))
  from generate_series(1, n) as k
$$;

create function pg_temp.process() returns int language plpgsql as $$
declare
  total int := 0;
  n int;
begin
  loop
    n := coliseum.process_pending(1000000);
    exit when n = 0;
    total := total + n;
  end loop;
  return total;
end
$$;

select gen_random_uuid() as fan, gen_random_uuid() as fan2, gen_random_uuid() as fan3, gen_random_uuid() as stranger,
       gen_random_uuid() as admin, gen_random_uuid() as artist, gen_random_uuid() as held, gen_random_uuid() as idol \gset

-- Awards of this test's badges to this test's fans (the seed and the demo may have earned some: activation
-- awards the history).
create temp table mine on commit drop as select unnest(array[:'fan', :'fan2', :'fan3']::uuid[]) as user_id;
grant select on mine to authenticated, service_role, anon;
create function pg_temp.awards(badge_code text) returns setof people.badge_awards language sql as $$
  select a.* from people.badge_awards as a join people.badges as b on b.id = a.badge_id
  where b.code = badge_code and a.user_id in (select m.user_id from mine as m)
$$;
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap badges');
select pg_temp.process() >= 0 as flushed \gset
-- Day boundaries (UTC): plays five to two days ago, and the month before this one.
select date_trunc('day', now(), 'UTC') - interval '5 days' + interval '6 hours' as days_ago,
       date_trunc('month', now(), 'UTC') - interval '1 month' + interval '3 days' as last_month,
       to_char(now() at time zone 'UTC' - interval '1 month', 'YYYY-MM') as last_month_key \gset

-- Rules are checked ----------------------------------------------------------------------------------------

create function pg_temp.put(rule text) returns people.badges language sql as $$
  select people.put_badge('pgtap.check', 'Check', 'A rule check.', rule::jsonb)
$$;
select throws_ok($$select pg_temp.put('[1]')$$, '22023', 'badge rule must be a JSON object', 'a rule is an object');
select throws_ok($$select pg_temp.put('{"type": "streak"}')$$, '22023',
                 'badge rule type must be one of count, early, rank, got streak', 'an unknown rule type is refused');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["audio.play"], "at_least": 1, "within": 3}')$$, '22023',
                 'badge rule of type count has an unknown key ''within''; its keys are type, kinds, at_least, per, counted',
                 'an unknown key is refused, naming the keys');
select throws_ok($$select pg_temp.put('{"type": "early", "kinds": ["social.follow"], "per": "artist"}')$$, '22023',
                 'badge rule of type early needs within_first', 'a missing key is named');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["audio.plays"], "at_least": 1}')$$, '22023',
                 'badge rule names an unknown event kind ''audio.plays''', 'kinds are catalog kinds');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": [], "at_least": 1}')$$, '22023',
                 'badge rule kinds must be an array of 1 to 20 event kind names', 'at least one kind');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["audio.play", "audio.play"], "at_least": 1}')$$, '22023',
                 'badge rule kinds must not repeat a kind', 'no kind twice');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["audio.play"], "at_least": 1, "per": "city"}')$$,
                 '22023', 'badge rule per must be "artist"', 'per is artist');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["system.session_started"], "at_least": 1, "per": "artist"}')$$,
                 '22023', 'badge rule is per artist but the kind ''system.session_started'' does not name an artist',
                 'a per-artist rule needs kinds that name an artist');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["profile.created"], "at_least": 1, "counted": true}')$$,
                 '22023', 'badge rule counts counted entries but the kind ''profile.created'' makes no DNA',
                 'counted needs kinds that make DNA');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["audio.play"], "at_least": 0}')$$, '22023',
                 'badge rule at_least must be an integer from 1 to 1000000', 'at_least is at least 1');
select throws_ok($$select pg_temp.put('{"type": "count", "kinds": ["audio.play"], "at_least": 2.5}')$$, '22023',
                 'badge rule at_least must be an integer from 1 to 1000000', 'at_least is an integer');
select throws_ok($$select pg_temp.put('{"type": "rank", "metric": "likes", "per": "artist", "period": "month", "top": 1}')$$,
                 '22023', 'badge rule metric must be one of units, counted_plays, entries', 'rank metrics are closed');
select throws_ok($$select pg_temp.put('{"type": "rank", "metric": "units", "per": "artist", "period": "week", "top": 1}')$$,
                 '22023', 'badge rule period must be "month"', 'rank periods are closed');
select throws_ok($$select pg_temp.put('{"type": "rank", "metric": "units", "per": "artist", "period": "month", "top": 101}')$$,
                 '22023', 'badge rule top must be an integer from 1 to 100', 'top is 1 to 100');
select throws_ok($$insert into people.badges (code, title, description, rule) values ('pgtap.direct', 't', 'd', '{"type": "x"}')$$,
                 '22023', 'badge rule type must be one of count, early, rank, got x',
                 'the table checks rules too, not only the function');
select throws_ok($$select people.put_badge('Bad Code', 't', 'd', '{"type": "count", "kinds": ["audio.play"], "at_least": 1}')$$,
                 '22023', 'badge code must be 1 to 64 lowercase letters, digits, _ and dots, got Bad Code', 'codes are checked');

-- Who manages badges -----------------------------------------------------------------------------------------

select pg_temp.act_as(null);
select throws_ok($$select people.put_badge('pgtap.x', 't', 'd', '{"type": "count", "kinds": ["audio.play"], "at_least": 1}')$$,
                 '42501', 'permission denied for function put_badge', 'anon cannot manage badges');
reset role;
select pg_temp.act_as(:'stranger');
select throws_ok($$select people.put_badge('pgtap.x', 't', 'd', '{"type": "count", "kinds": ["audio.play"], "at_least": 1}')$$,
                 '42501', 'managing badges is for admins', 'a user who is no admin cannot create a badge');
select throws_ok($$select people.activate_badge('first_ticket')$$, '42501', 'managing badges is for admins',
                 'nor activate one');
select throws_ok($$select people.deactivate_badge('first_ticket')$$, '42501', 'managing badges is for admins',
                 'nor deactivate one');
reset role;

select pg_temp.act_as(:'admin');
select is((people.put_badge('pgtap.first_ticket', 'First ticket', 'Your first ticket.',
          '{"type": "count", "kinds": ["concierto.ticket_purchased"], "at_least": 1}')).active, false,
          'an admin creates a badge, inactive');
select people.put_badge('pgtap.plays', '100 plays', '100 counted plays of an artist.',
       '{"type": "count", "kinds": ["audio.play"], "per": "artist", "at_least": 100, "counted": true}', 'https://cdn.example/p.png') is not null as put \gset
select people.put_badge('pgtap.early', 'Early supporter', 'Among the first two followers.',
       '{"type": "early", "kinds": ["social.follow"], "per": "artist", "within_first": 2}') is not null as put \gset
select people.put_badge('pgtap.top', 'Top fan', 'The top fan of the month.',
       '{"type": "rank", "metric": "units", "per": "artist", "period": "month", "top": 1}') is not null as put \gset
select people.put_badge('pgtap.hidden', 'Hidden', 'Never activated.',
       '{"type": "count", "kinds": ["audio.like"], "at_least": 1}') is not null as put \gset
select is(people.activate_badge('pgtap.first_ticket') - array['awards', 'backfilled_entries'],
          '{"badge": "pgtap.first_ticket", "active": true}'::jsonb, 'an admin activates a badge');
select throws_ok($$select people.activate_badge('pgtap.nope')$$, 'P0002', 'unknown badge pgtap.nope', 'an unknown badge');
reset role;
select pg_temp.act_as_service();
select is((people.activate_badge('pgtap.plays') ->> 'active')::boolean, true, 'the service role manages badges too');
reset role;
select people.activate_badge('pgtap.early') is not null as on, people.activate_badge('pgtap.top') is not null as on2 \gset

-- count: the first ticket ---------------------------------------------------------------------------------------

select passport.log(:'fan', 'concierto.ticket_purchased', 'pgtap-badges-order-1',
                    jsonb_build_object('event_id', gen_random_uuid(), 'tier_id', gen_random_uuid(), 'quantity', 2,
                                       'amount_minor', 5000, 'currency', 'USD'),
                    :'artist', source => 'concierto') as ticket_entry \gset
select pg_temp.process() > 0 as processed \gset
select results_eq(
  $$select user_id, scope, artist_id, period_start, earned_by_entry_id from pg_temp.awards('pgtap.first_ticket')$$,
  format($$values (%L::uuid, '', null::uuid, null::date, %s::bigint)$$, :'fan', :'ticket_entry'),
  'the processor awards the first ticket, once per user, naming the entry that earned it');
select results_eq(
  format($$select kind, payload, artist_id, source from public.passport_entries
           where id = (select entry_id from pg_temp.awards('pgtap.first_ticket'))$$),
  $$values ('badge.earned', '{"badge": "pgtap.first_ticket"}'::jsonb, null::uuid, 'system')$$,
  'the award is logged to Passport as badge.earned');
select results_eq(
  format($$select kind, title, body, payload ->> 'badge', dedupe_key from people.notifications
           where user_id = %L and payload ->> 'badge' like 'pgtap.%%'$$, :'fan'),
  format($$values ('badge.earned', 'Badge earned: First ticket', 'Your first ticket.', 'pgtap.first_ticket', 'badge-award:%s')$$,
         (select id from pg_temp.awards('pgtap.first_ticket'))),
  'and notified to the user (badge.earned, deduplicated by the award)');

select passport.log(:'fan', 'concierto.ticket_purchased', 'pgtap-badges-order-2',
                    jsonb_build_object('event_id', gen_random_uuid(), 'tier_id', gen_random_uuid(), 'quantity', 1,
                                       'amount_minor', 2500, 'currency', 'USD'),
                    :'artist', source => 'concierto') as ticket_entry_2 \gset
select pg_temp.process() > 0 as processed \gset
select is((select count(*) from pg_temp.awards('pgtap.first_ticket')), 1::bigint, 'a second ticket earns nothing more');
select is(people_private.evaluate_badges(array[:ticket_entry, :ticket_entry_2]::bigint[]), 0,
          'the same batch evaluated again awards nothing');
select is((select count(*) from people.notifications
            where user_id = :'fan' and kind = 'badge.earned' and payload ->> 'badge' like 'pgtap.%'), 1::bigint,
          'and notifies nothing');
select is((select count(*) from public.coliseum_dna_mutations as m
           join public.passport_entries as e on e.id = m.entry_id
           where e.kind = 'badge.earned' and e.user_id = :'fan'), 0::bigint,
          'badge.earned entries make no DNA once folded');

-- count, counted plays: 100 plays of an artist under the counting rules ---------------------------------------

-- 99 plays that count (25 a day at most: all within the day curve's weighted plays), then a play of
-- 29 s and a repeat of a track in the same slot: neither counts, so no badge yet.
select max(pg_temp.plays(:'fan', :'artist', :'days_ago'::timestamptz + (d - 1) * interval '1 day',
                         case when d = 4 then 24 else 25 end, 'day' || d)) as last_play
from generate_series(1, 4) as d \gset
select pg_temp.plays(:'fan', :'artist', :'days_ago'::timestamptz + interval '4 days', 1, 'short', 29999) as short_play \gset
select passport.log(:'fan', 'audio.play', 'pgtap-badges-repeat',
                    (select e.payload from public.passport_entries as e
                     where e.user_id = :'fan' and e.client_event_id = 'pgtap-badges-day1-1'),
                    :'artist', :'days_ago'::timestamptz + interval '10 minutes') as repeat_play \gset
select pg_temp.process() > 0 as processed \gset
select results_eq(
  format($$select m.units from public.coliseum_dna_mutations as m where m.domain = 'T' and m.entry_id in (%s, %s)$$,
         :'short_play', :'repeat_play'),
  $$values (0::bigint)$$,
  'the processor stored the repeat with no units and nothing for the 29 s play');
select results_eq(
  format($$select p.count from people_private.badge_progress as p join people.badges as b on b.id = p.badge_id
           where b.code = 'pgtap.plays' and p.user_id = %L and p.scope = %L$$, :'fan', :'artist'),
  $$values (99::bigint)$$,
  'so 99 plays counted: a play under 30 s and a repeat in its slot do not');
select is((select count(*) from pg_temp.awards('pgtap.plays')), 0::bigint, 'no badge at 99');
select pg_temp.plays(:'fan', :'artist', :'days_ago'::timestamptz + interval '4 days' + interval '2 hours', 1, 'hundredth')
       as hundredth \gset
select pg_temp.process() > 0 as processed \gset
select results_eq(
  $$select user_id, scope, artist_id, earned_by_entry_id from pg_temp.awards('pgtap.plays')$$,
  format($$values (%L::uuid, %L, %L::uuid, %s::bigint)$$, :'fan', :'artist', :'artist', :'hundredth'),
  'the 100th counted play earns the badge, for that artist');
select results_eq(
  format($$select artist_id, payload from public.passport_entries
           where id = (select entry_id from pg_temp.awards('pgtap.plays'))$$),
  format($$values (%L::uuid, '{"badge": "pgtap.plays"}'::jsonb)$$, :'artist'),
  'its badge.earned entry names the artist');
select pg_temp.plays(:'fan', :'artist', :'days_ago'::timestamptz + interval '4 days' + interval '4 hours', 3, 'more') as more \gset
select pg_temp.process() > 0 as processed \gset
select results_eq(
  format($$select p.count from people_private.badge_progress as p join people.badges as b on b.id = p.badge_id
           where b.code = 'pgtap.plays' and p.user_id = %L$$, :'fan'),
  $$values (100::bigint)$$,
  'the counter stops at at_least: an earned badge costs the processor nothing more');

-- A held artist: the counting rules do not leave their plays out, so neither do count badges.
select pg_temp.plays(:'fan2', :'held', :'days_ago'::timestamptz, 25, 'held1') as p1,
       pg_temp.plays(:'fan2', :'held', :'days_ago'::timestamptz + interval '1 day', 25, 'held2') as p2,
       pg_temp.plays(:'fan2', :'held', :'days_ago'::timestamptz + interval '2 days', 25, 'held3') as p3 \gset
select pg_temp.process() > 0 as processed \gset
select pg_temp.act_as(:'admin');
select (coliseum.hold_artist(:'held', 'pgtap: bought plays')).id is not null as held_now \gset
reset role;
select pg_temp.plays(:'fan2', :'held', :'days_ago'::timestamptz + interval '3 days', 25, 'held4') as p4 \gset
select pg_temp.process() > 0 as processed \gset
select results_eq(
  format($$select user_id, scope from pg_temp.awards('pgtap.plays') where artist_id = %L$$, :'held'),
  format($$values (%L::uuid, %L)$$, :'fan2', :'held'),
  'plays of a held artist count as the counting rules count them (the hold keeps them off boards and rank badges)');

-- early: among an artist's first two followers -------------------------------------------------------------------

select passport.log(:'fan', 'social.follow', 'pgtap-badges-follow-1', '{}', :'idol') as follow_1,
       passport.log(:'fan2', 'social.follow', 'pgtap-badges-follow-2', '{}', :'idol') as follow_2 \gset
select pg_temp.process() > 0 as processed \gset
select passport.log(:'fan', 'social.unfollow', 'pgtap-badges-unfollow-1', '{}', :'idol') is not null as l1,
       passport.log(:'fan', 'social.follow', 'pgtap-badges-follow-3', '{}', :'idol') is not null as l2,
       passport.log(:'fan3', 'social.follow', 'pgtap-badges-follow-4', '{}', :'idol') is not null as l3 \gset
select pg_temp.process() > 0 as processed \gset
select results_eq(
  $$select user_id, scope, earned_by_entry_id from pg_temp.awards('pgtap.early') order by earned_by_entry_id$$,
  format($$values (%L::uuid, %L, %s::bigint), (%L::uuid, %L, %s::bigint)$$,
         :'fan', :'idol', :'follow_1', :'fan2', :'idol', :'follow_2'),
  'the first two followers are early supporters; a third is not, and following again changes nothing');
select results_eq(
  $$select s.users from people_private.badge_scope_counts as s join people.badges as b on b.id = s.badge_id
    where b.code = 'pgtap.early' and s.scope = '$$ || :'idol' || $$'$$,
  $$values (2::bigint)$$,
  'the scope counts its first followers up to within_first, then stops');

-- The ingest path the app uses: a signed-in user's own follow of a new artist.
select gen_random_uuid() as newcomer \gset
select pg_temp.act_as(:'fan3');
select is(passport.ingest(jsonb_build_array(jsonb_build_object(
            'user_id', :'fan3', 'source', 'app', 'kind', 'social.follow', 'client_event_id', 'pgtap-badges-ingest-1',
            'artist_id', :'newcomer', 'occurred_at', now()))) -> 0 ->> 'status', 'accepted', 'a follow through passport.ingest');
reset role;
select pg_temp.process() > 0 as processed \gset
select results_eq(
  format($$select user_id from pg_temp.awards('pgtap.early') where artist_id = %L$$, :'newcomer'),
  format($$values (%L::uuid)$$, :'fan3'),
  'earns the first follower of an artist the badge');

-- A race: the backfill of a new badge waits for the processor's lock, so an entry is evaluated by one of
-- them only. Here: a badge created after the tickets were folded is activated, then the batch runs again.
select pg_temp.act_as(:'admin');
select people.put_badge('pgtap.first_ticket.late', 'First ticket (late)', 'Created after the ticket.',
       '{"type": "count", "kinds": ["concierto.ticket_purchased"], "at_least": 1}') is not null as put \gset
select ok((people.activate_badge('pgtap.first_ticket.late') ->> 'backfilled_entries')::bigint >= 2,
          'activation evaluates the history the processor folded (the backfill)');
reset role;
select results_eq(
  $$select user_id, earned_by_entry_id from pg_temp.awards('pgtap.first_ticket.late')$$,
  format($$values (%L::uuid, %s::bigint)$$, :'fan', :'ticket_entry'),
  'the backfill awards what the history already earned, from the entry that earned it');
select is(people_private.evaluate_badges(array[:ticket_entry, :ticket_entry_2]::bigint[]), 0,
          'and the processor meeting those entries again awards nothing twice');
select is(people_private.award_badge((select id from people.badges where code = 'pgtap.first_ticket.late'), :'fan', ''),
          null, 'a second award of the same (user, badge, scope) is refused by its key, whoever tries');
select is((people.activate_badge('pgtap.first_ticket.late') ->> 'awards')::int, 0,
          'activating an active badge again evaluates nothing');
select throws_ok($$select people.put_badge('pgtap.first_ticket.late', 'x', 'y', '{"type": "count", "kinds": ["concierto.ticket_purchased"], "at_least": 2}')$$,
                 '55000', 'badge pgtap.first_ticket.late was activated: its rule and code cannot change',
                 'the rule of an activated badge is fixed');
select is((people.put_badge('pgtap.first_ticket.late', 'First ticket!', 'Renamed.',
          '{"type": "count", "kinds": ["concierto.ticket_purchased"], "at_least": 1}')).title, 'First ticket!',
          'its title and description may change');

-- Deactivated: nothing more is awarded; what was earned stays. The buyer turned badge notifications off.
select pg_temp.act_as(:'fan3');
insert into people.notification_preferences (user_id, kind, enabled) values (:'fan3', 'badge.earned', false);
reset role;
select people.deactivate_badge('pgtap.first_ticket') is not null as off \gset
select passport.log(:'fan3', 'concierto.ticket_purchased', 'pgtap-badges-order-3',
                    jsonb_build_object('event_id', gen_random_uuid(), 'tier_id', gen_random_uuid(), 'quantity', 1,
                                       'amount_minor', 2500, 'currency', 'USD'),
                    :'artist', source => 'concierto') is not null as logged \gset
select pg_temp.process() > 0 as processed \gset
select results_eq($$select user_id from pg_temp.awards('pgtap.first_ticket')$$, format($$values (%L::uuid)$$, :'fan'),
                  'a deactivated badge awards nothing more and keeps its awards');

select is((select count(*) from pg_temp.awards('pgtap.first_ticket.late') where user_id = :'fan3'), 1::bigint,
          'an active badge awards the next buyer, who turned badge notifications off');
select is((select count(*) from people.notifications where user_id = :'fan3' and kind = 'badge.earned'
             and payload ->> 'badge' = 'pgtap.first_ticket.late'), 0::bigint,
          'without a notification when they turned the kind off');

-- rank: the top fan of the month ---------------------------------------------------------------------------------

select pg_temp.plays(:'fan', :'idol', :'last_month'::timestamptz, 10, 'month-fan') as m1,
       pg_temp.plays(:'fan2', :'idol', :'last_month'::timestamptz, 6, 'month-fan2') as m2,
       pg_temp.plays(:'fan2', :'held', :'last_month'::timestamptz, 8, 'month-held') as m3 \gset
select pg_temp.process() > 0 as processed \gset
select is((select count(*) from pg_temp.awards('pgtap.top') where artist_id in (:'idol', :'held')), 0::bigint,
          'rank badges wait for the month to close');
select throws_ok($$select people_private.award_rank_badges(date_trunc('month', now())::date)$$, '22023',
                 format('month %s has not closed yet', date_trunc('month', now())::date), 'the month running now is refused');
select ok(people_private.award_rank_badges() >= 1, 'the monthly job awards the month before');
select results_eq(
  format($$select user_id, scope, period_start, earned_by_entry_id from pg_temp.awards('pgtap.top')
           where artist_id in (%L, %L)$$, :'idol', :'held'),
  format($$values (%L::uuid, %L, %L::date, null::bigint)$$, :'fan', :'idol' || '/' || :'last_month_key',
         date_trunc('month', :'last_month'::timestamptz)::date),
  'to the top fan of each artist for that month; a held artist has no top fan');
select is(people_private.award_rank_badges(), 0, 'run again, it awards nothing');
select is((select format('%s | %s | %s', jobname, schedule, command) from cron.job where jobname = 'people-badges-monthly'),
          'people-badges-monthly | 30 0 1 * * | select people_private.award_rank_badges()',
          'the pg_cron job runs it after each month closes');
select people.put_badge('pgtap.top.late', 'Top fan (late)', 'Created after the month.',
       '{"type": "rank", "metric": "counted_plays", "per": "artist", "period": "month", "top": 2}') is not null as put \gset
select ok((people.activate_badge('pgtap.top.late') ->> 'awards')::int >= 2, 'activating a rank badge awards the closed months');
select results_eq(
  format($$select user_id from pg_temp.awards('pgtap.top.late') where artist_id = %L order by user_id$$, :'idol'),
  format($$select u from unnest(array[%L, %L]::uuid[]) as u order by u$$, :'fan', :'fan2'),
  'its top two of that month');

-- Reads ------------------------------------------------------------------------------------------------------------

select pg_temp.act_as(:'fan');
select results_eq(
  $$select code, artist_id from people.my_badges() where code like 'pgtap.%' and code not like 'pgtap.top%'
    order by code, artist_id$$,
  format($$values ('pgtap.early', %L::uuid), ('pgtap.first_ticket', null), ('pgtap.first_ticket.late', null),
                  ('pgtap.plays', %L)$$, :'idol', :'artist'),
  'my_badges: the user''s own badges');
select ok((select bool_and(entry_id is not null) from people.my_badges()), 'with the entries that logged them');
select is((select count(*) from people.badge_awards where user_id <> :'fan'), 0::bigint,
          'badge_awards: a user reads only their own rows');
select is((select count(*) from people.badges where code = 'pgtap.hidden'), 0::bigint,
          'the catalogue shows users active badges only');
select is((select count(*) from people.badges where code in ('pgtap.plays', 'pgtap.early')), 2::bigint, 'all of them');
select throws_ok($$select * from people_private.badge_progress$$, '42501', null, 'the processor''s state is private');
select throws_ok($$update people.badges set active = true where code = 'pgtap.hidden'$$, '42501', null,
                 'users change no badge directly');
select throws_ok($$insert into people.badge_awards (user_id, badge_id, scope, entry_id) values (auth.uid(), 1, 'x', 1)$$,
                 '42501', null, 'nor award themselves one');
reset role;

select pg_temp.act_as(:'stranger');
select results_eq(
  format($$select code, artist_id, period_start from people.user_badges(%L)
           where code like 'pgtap.%%' and (code not like 'pgtap.top%%' or artist_id = %L)
           order by code, artist_id$$, :'fan', :'idol'),
  format($$values ('pgtap.early', %L::uuid, null::date), ('pgtap.first_ticket', null, null),
                  ('pgtap.first_ticket.late', null, null), ('pgtap.plays', %L, null), ('pgtap.top', %L, %L::date),
                  ('pgtap.top.late', %L, %L::date)$$,
         :'idol', :'artist', :'idol', date_trunc('month', :'last_month'::timestamptz)::date,
         :'idol', date_trunc('month', :'last_month'::timestamptz)::date),
  'user_badges: another user sees what a user earned, for which artist and month');
select is((select count(*) from people.badge_awards where user_id = :'fan'), 0::bigint,
          'but not their award rows (entries behind them)');
reset role;

select count(*) as fan_awards from people.badge_awards where user_id = :'fan' \gset
select pg_temp.act_as(null);
select is((select count(*) from people.user_badges(:'fan')), :fan_awards::bigint, 'anon reads a user''s badges too');
select throws_ok($$select * from people.my_badges()$$, '42501', 'permission denied for function my_badges',
                 'anon has no badges of its own');
select throws_ok($$select * from people.badge_awards$$, '42501', 'permission denied for table badge_awards',
                 'nor reads award rows');
select is((select count(*) from people.badges where code = 'pgtap.plays'), 1::bigint, 'anon reads the catalogue');
reset role;

select pg_temp.act_as(:'admin');
select is((select count(*) from people.badges where code = 'pgtap.hidden'), 1::bigint, 'admins see inactive badges');
select ok((select count(*) from people.badge_awards where user_id in (:'fan', :'fan2', :'fan3')) >= 8,
          'and every award');
reset role;

select pg_temp.act_as_service();
select is((select count(*) from people.badge_awards where user_id = :'fan'), :fan_awards::bigint,
          'the service role reads awards');
select throws_ok($$select * from people_private.badge_scope_counts$$, '42501', null,
                 'but not the processor''s private state');
select throws_ok($$select people_private.evaluate_badges('{1}')$$, '42501', null,
                 'nor call the processor''s part directly');
reset role;

select * from finish();
rollback;
