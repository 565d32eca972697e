-- Coliseum boards: coliseum.artist_profile for the artist themself and for
-- readers of every plan: which boards, ranks, history and growth they see.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(32);

delete from public.coliseum_domain_strength;
delete from coliseum.strength_history;
delete from coliseum.user_plans;

create function pg_temp.artist(n int) returns uuid language sql immutable as $$
  select ('a0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid
$$;
grant execute on function pg_temp.artist(int) to anon, authenticated, service_role;
select (now() at time zone 'UTC')::date as today \gset

-- 120 artists; artist n ranks n on every board.
insert into public.coliseum_domain_strength (artist_id, domain, period, score, raw, components, events, fans, computed_at)
select pg_temp.artist(n), d, p, 100 - n * 0.5, 1000 - n,
       case d when 'overall' then '{"A": 1, "T": 2, "G": 3, "C": 4}'::jsonb else jsonb_build_object('engagement', n) end,
       n * 10, n, now()
from generate_series(1, 120) as n,
     unnest(array['A', 'T', 'G', 'C', 'overall']) as d,
     unnest(array['7d', '30d', 'alltime']) as p;

-- Artist 5's 30d history over 100 days (only the last 90 are shown), and a
-- 7d reference value for "change".
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw)
select :'today'::date - k, pg_temp.artist(5), d, '30d', k, 1
from generate_series(0, 99) as k, unnest(array['A', 'T', 'overall']) as d;
-- 7d values of 7 days ago: for change, and for growth (artist 5's current
-- 7d raw is 995 on every domain).
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw) values
  (:'today'::date - 7, pg_temp.artist(5), 'A', '7d', 90, 497.5),
  (:'today'::date - 7, pg_temp.artist(5), 'G', '7d', 0, 0),
  (:'today'::date - 6, pg_temp.artist(5), 'T', '7d', 50, 100);

select gen_random_uuid() as fan, gen_random_uuid() as pro_fan, gen_random_uuid() as enterprise_fan \gset
insert into coliseum.user_plans (user_id, plan) values (:'pro_fan', 'pro'), (:'enterprise_fan', 'enterprise');

-- The boards of a profile a reader sees, as "domain period rank" strings.
create function pg_temp.shown(profile jsonb) returns text[] language sql as $$
  select coalesce(array_agg(d.key || ' ' || p.key || ' ' || (p.value ->> 'rank') order by d.key, p.key), '{}')
  from jsonb_each(profile -> 'boards') as d, jsonb_each(d.value) as p
  where p.value <> 'null'
$$;
create function pg_temp.present(section jsonb) returns text[] language sql as $$
  select coalesce(array_agg(key order by key), '{}') from jsonb_each(section) where value <> 'null'
$$;
grant execute on function pg_temp.shown(jsonb), pg_temp.present(jsonb) to anon, authenticated, service_role;

-- The artist themself (artist 100, a free user: beyond every limited depth) ------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', pg_temp.artist(100), 'role', 'authenticated')::text, true) is not null as set \gset
select coliseum.artist_profile(pg_temp.artist(100)) as me \gset
select is(:'me'::jsonb ->> 'plan', 'free', 'the profile says under which plan it was read');
select is(cardinality(pg_temp.shown(:'me')), 15, 'the artist sees all 15 of their boards');
select is((select count(*) from jsonb_each(:'me'::jsonb -> 'boards') as d, jsonb_each(d.value) as p
           where (p.value ->> 'rank')::int = 100), 15::bigint, 'with their exact rank on each');
select is(:'me'::jsonb #> '{boards,T,30d}',
          jsonb_build_object('score', 50, 'raw', 900, 'rank', 100, 'change', null, 'events', 1000, 'fans', 100,
                             'components', jsonb_build_object('engagement', 100),
                             'computed_at', (select computed_at from public.coliseum_domain_strength
                                             where artist_id = pg_temp.artist(100) and domain = 'T' and period = '30d')),
          'a board entry: score, raw, rank, change, events, fans, components, computed_at');
select is(:'me'::jsonb #> '{boards,overall,7d,components}', '{"A": 1, "T": 2, "G": 3, "C": 4}'::jsonb,
          'overall''s components are the four scores');
select is(pg_temp.present(:'me'::jsonb -> 'history'), array['A', 'C', 'G', 'T', 'overall'], 'the artist sees every history');
select is(:'me'::jsonb -> 'history' -> 'T', '[]'::jsonb, 'empty where there is none');
select is(pg_temp.present(:'me'::jsonb -> 'growth'), array['A', 'C', 'G', 'T'], 'and the growth of every domain');
reset role;

-- A free reader ---------------------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select coliseum.artist_profile(pg_temp.artist(5)) as seen \gset
select is(pg_temp.shown(:'seen'), array['A 30d 5', 'A 7d 5', 'A alltime 5'], 'free: rank 5 of the A boards, nothing else');
select is(:'seen'::jsonb #> '{boards,T}', '{"7d": null, "30d": null, "alltime": null}'::jsonb, 'free: the T boards are null');
select is((:'seen'::jsonb #>> '{boards,A,7d,change}')::float8, 97.5::float8 - 90, 'free: change against 7 days ago');
select is(pg_temp.present(:'seen'::jsonb -> 'history'), array['A'], 'free: the A history only');
select is(jsonb_array_length(:'seen'::jsonb #> '{history,A}'), 90, 'the history holds the last 90 days');
select is(:'seen'::jsonb #> '{history,A,0}', jsonb_build_object('day', :'today'::date - 89, 'score', 89),
          'oldest first');
select is(:'seen'::jsonb #> '{history,A,89}', jsonb_build_object('day', :'today'::date, 'score', 0), 'up to today');
select is(pg_temp.present(:'seen'::jsonb -> 'growth'), array['A'], 'free: the A growth only');
select is(:'seen'::jsonb #> '{growth,A}', '{"recent_raw": 995, "previous_raw": 497.5, "ratio": 2, "percent": 100}'::jsonb,
          'growth: the 7d raw now against the 7d raw stored 7 days ago');
select is(pg_temp.shown(coliseum.artist_profile(pg_temp.artist(11))), '{}'::text[], 'free: nothing of rank 11');
select is(coliseum.artist_profile(pg_temp.artist(11)) -> 'history',
          '{"A": null, "T": null, "G": null, "C": null, "overall": null}'::jsonb, 'nor its history');
reset role;

-- public, pro, enterprise, service_role ------------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select is(pg_temp.shown(coliseum.artist_profile(pg_temp.artist(50))), array['A 30d 50', 'A 7d 50', 'A alltime 50'],
          'public: rank 50 of A');
select is(pg_temp.shown(coliseum.artist_profile(pg_temp.artist(51))), '{}'::text[], 'public: nothing of rank 51');
reset role;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'pro_fan', 'role', 'authenticated')::text, true) is not null as set \gset
select is(cardinality(pg_temp.shown(coliseum.artist_profile(pg_temp.artist(100)))), 15, 'pro: every board of rank 100');
select is(pg_temp.present(coliseum.artist_profile(pg_temp.artist(5)) -> 'history'), array['A', 'C', 'G', 'T', 'overall'],
          'pro: every history');
select is(pg_temp.shown(coliseum.artist_profile(pg_temp.artist(101))), '{}'::text[], 'pro: nothing of rank 101');
select is(coliseum.artist_profile(pg_temp.artist(5)) -> 'growth',
          '{"A": {"recent_raw": 995, "previous_raw": 497.5, "ratio": 2, "percent": 100},
            "T": {"recent_raw": 995, "previous_raw": null, "ratio": null, "percent": null},
            "G": {"recent_raw": 995, "previous_raw": 0, "ratio": null, "percent": null},
            "C": {"recent_raw": 995, "previous_raw": null, "ratio": null, "percent": null}}'::jsonb,
          'pro: growth of every domain; no ratio without a previous value, or against 0');
reset role;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'enterprise_fan', 'role', 'authenticated')::text, true) is not null as set \gset
select is((select count(*) from jsonb_each(coliseum.artist_profile(pg_temp.artist(120)) -> 'boards') as d, jsonb_each(d.value) as p
           where (p.value ->> 'rank')::int = 120), 15::bigint, 'enterprise: every board of the last artist, exact ranks');
reset role;

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select is(cardinality(pg_temp.shown(coliseum.artist_profile(pg_temp.artist(120)))), 15, 'service_role: everything');
select is(coliseum.artist_profile(pg_temp.artist(120)) -> 'plan', 'null'::jsonb, 'with no plan');
select gen_random_uuid() as nobody \gset
select is(coliseum.artist_profile(:'nobody'),
          jsonb_build_object(
            'artist_id', :'nobody'::uuid, 'plan', null, 'held', false,
            'boards', (select jsonb_object_agg(d, '{"7d": null, "30d": null, "alltime": null}'::jsonb)
                       from unnest(array['A', 'T', 'G', 'C', 'overall']) as d),
            'history', '{"A": [], "T": [], "G": [], "C": [], "overall": []}'::jsonb,
            'growth', (select jsonb_object_agg(d, '{"recent_raw": 0, "previous_raw": null, "ratio": null, "percent": null}'::jsonb)
                       from unnest(array['A', 'T', 'G', 'C']) as d)),
          'an unknown artist: no board, empty history, no growth');
reset role;

-- Ties: the same ordering as the boards ----------------------------------------------------

update public.coliseum_domain_strength set score = 97.5 where artist_id = pg_temp.artist(4) and domain = 'A' and period = '7d';
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select is(coliseum.artist_profile(pg_temp.artist(5)) #>> '{boards,A,7d,rank}', '5', 'a tie ranks by artist_id (artist 4 first)');
select is((select rank from coliseum.leaderboard('A', '7d') where artist_id = pg_temp.artist(5)), 5,
          'as on the board');
select throws_ok($$select coliseum.artist_profile(null)$$, '22023', 'artist is required', 'an artist is required');
reset role;

select * from finish();
rollback;
