-- Coliseum boards: tables, views, privileges, functions and the policy.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(16);

create temporary table board_views (name text) on commit drop;
insert into board_views
select 'public.coliseum_leaderboard_' || d || '_' || p
from unnest(array['a', 't', 'g', 'c', 'overall']) as d, unnest(array['7d', '30d', 'alltime']) as p;

select is((select count(*) from board_views where to_regclass(name) is not null), 15::bigint, 'the 15 board views exist');

select is(
  (select array_agg(name order by name) from board_views
   where (select array_agg(a.attname::text order by a.attnum) from pg_attribute as a
          where a.attrelid = name::regclass and a.attnum > 0 and not a.attisdropped)
         is distinct from array['rank', 'artist_id', 'score', 'change', 'previous_rank']),
  null,
  'every view has rank, artist_id, score, change, previous_rank'
);

select is(
  (select array_agg(name order by name) from board_views
   where not (select c.reloptions @> array['security_barrier=true', 'security_invoker=true']
              from pg_class as c where c.oid = name::regclass)),
  null,
  'every view is a security barrier and runs as its caller'
);

select is(
  (select array_agg(r || ' ' || priv || ' ' || name order by r, priv, name)
   from board_views,
        unnest(array['anon', 'authenticated', 'service_role']) as r,
        unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) as priv
   where has_table_privilege(r, name, priv)),
  null,
  'no API role may write, truncate, reference or trigger on a view'
);

select is(
  (select array_agg(r || ' ' || name order by r, name)
   from board_views, unnest(array['anon', 'authenticated', 'service_role']) as r
   where not has_table_privilege(r, name, 'SELECT')),
  null,
  'every API role may read every view'
);

select is(
  (select array_agg(r || ' ' || priv || ' ' || t order by r, priv, t)
   from unnest(array['public.coliseum_domain_strength', 'coliseum.plans', 'coliseum.user_plans']) as t,
        unnest(array['anon', 'authenticated', 'service_role']) as r,
        unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) as priv
   where has_table_privilege(r, t, priv)),
  null,
  'no API role may write the strength table, the plans or the user plans'
);

select is(
  (select array_agg(r || ' ' || t order by r, t)
   from (values ('anon', 'public.coliseum_domain_strength'), ('authenticated', 'public.coliseum_domain_strength'),
                ('service_role', 'public.coliseum_domain_strength'), ('anon', 'coliseum.plans'),
                ('authenticated', 'coliseum.plans'), ('service_role', 'coliseum.plans'),
                ('authenticated', 'coliseum.user_plans'), ('service_role', 'coliseum.user_plans')) as g(r, t)
   where not has_table_privilege(r, t, 'SELECT')),
  null,
  'the API roles read the strength table and the plans; users and the service role the user plans'
);
select ok(not has_table_privilege('anon', 'coliseum.user_plans', 'SELECT'), 'anon has no business with user plans');

select is(
  (select array_agg(c.oid::regclass::text order by 1) from pg_class as c
   where c.oid in ('public.coliseum_domain_strength'::regclass, 'coliseum.plans'::regclass, 'coliseum.user_plans'::regclass)
     and not c.relrowsecurity),
  null,
  'row level security is on for the strength table, the plans and the user plans'
);

select policies_are('public', 'coliseum_domain_strength', array['domain_strength_plan_reads'],
                    'one policy decides what the app reads of the strength table');
select is((select array_agg(r::regrole::text order by 1) from pg_policy as p, unnest(p.polroles) as r
           where p.polrelid = 'public.coliseum_domain_strength'::regclass),
          array['anon', 'authenticated'], 'it applies to anon and authenticated');

-- Functions -----------------------------------------------------------------------------------

select is(
  (select array_agg(f || ' ' || r order by f, r)
   from (values ('coliseum.my_plan()', array['anon', 'authenticated', 'service_role']),
                ('coliseum.set_plan(uuid, text)', array['service_role']),
                ('coliseum.leaderboard(text, text, int, int)', array['anon', 'authenticated', 'service_role']),
                ('coliseum.board(text, text)', array['anon', 'authenticated', 'service_role']),
                ('coliseum.artist_profile(uuid)', array['anon', 'authenticated', 'service_role']),
                ('coliseum.boards_shown_in_full()', array['anon', 'authenticated']),
                ('coliseum.rows_shown()', array['anon', 'authenticated'])) as g(f, granted),
        unnest(array['anon', 'authenticated', 'service_role']) as r
   where has_function_privilege(r, f, 'EXECUTE') <> (r = any (granted))),
  null,
  'each function is executable by exactly the roles it is for'
);

select is(
  (select array_agg(p.oid::regprocedure::text order by 1)
   from pg_proc as p
   where p.pronamespace = 'coliseum'::regnamespace
     and p.proname in ('my_plan', 'set_plan', 'leaderboard', 'board', 'artist_profile', 'boards_shown_in_full', 'rows_shown')
     and not (p.prosecdef and p.proconfig @> array['search_path=""'])),
  null,
  'they are security definer with an empty search_path'
);

select is(
  (select array_agg(p.oid::regprocedure::text || ' ' || r order by 1)
   from pg_proc as p, unnest(array['anon', 'authenticated', 'service_role']) as r
   where p.pronamespace = 'coliseum_private'::regnamespace
     and p.proname in ('board_key', 'check_access', 'rows_ahead', 'board_page', 'artist_growth')
     and has_function_privilege(r, p.oid, 'EXECUTE')),
  null,
  'the private helpers are executable by no API role'
);

select has_index('coliseum', 'strength_history', 'strength_history_board_idx',
                 array['domain', 'period', 'day', 'score', 'artist_id'], 'past boards are ranked from an index');
select has_index('public', 'coliseum_domain_strength', 'coliseum_domain_strength_board_idx',
                 array['domain', 'period', 'score', 'artist_id'], 'boards are read from an index');

select * from finish();
rollback;
