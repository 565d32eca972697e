-- plpgsql_check (what `supabase db lint` runs) over every PL/pgSQL function of ours, on both
-- clusters: ./stack creates the extension in schema extensions as the superuser before pg_prove.
--
-- In scope: the PL/pgSQL functions of public and of the system schemas (passport, coliseum,
-- treasury, concierto, companon and their _private twins), extension members excepted. A trigger
-- function is checked once per table that has a trigger on it (its NEW and OLD rows, transition
-- tables included), so one attached to no table is reported: it cannot be checked, and nothing
-- runs it. plpgsql_check reads PL/pgSQL only: SQL-language functions (the RLS helpers, the
-- small wrappers, the SQL-language twins strength_score and event_weight) and pg_coliseum's C
-- functions are out of its reach. The PL/pgSQL twins of sql/twins (allocate_split,
-- normalized_entropy, ...) exist only on the hosted-shape cluster, and are checked there.
--
-- Every class of check is on (fatal_errors off, so that one run lists everything). What fails:
-- - every error (a query that does not plan, a missing column, a wrong record field);
-- - every warning of other_warnings and extra_warnings: unused or never-read variables and
--   parameters, unreachable code, a missing RETURN, shadowed variables, and any conversion that
--   needs a text I/O cast (text to jsonb, text to int): one that can fail at run time;
-- - every security warning (SQL injection through EXECUTE);
-- - of the performance warnings, only a conversion that Postgres would not make implicitly
--   (pg_cast.castcontext <> 'i': bigint to int, numeric to bigint), which can fail or round.
--   Widening ones (int to bigint, int to double precision, char to text) and the "implicit cast
--   of attribute in WHERE clause" notes (an index that cannot be used) are left to review.
-- The fix is to say what is meant: an explicit cast, a typed literal ('{}'::jsonb), no
-- variable nobody reads. A finding that is wrong goes into pg_temp.allowed below with its
-- reason; an entry that no longer matches anything fails the test, so the list stays true.
--
-- And every security definer function, in any language, sets search_path = '', checked from
-- pg_proc.proconfig: a definer that resolves names through the caller's search_path runs the
-- caller's objects with its owner's rights.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(6);

select has_extension('extensions', 'plpgsql_check', 'plpgsql_check is installed (./stack test creates it)');

create temporary table ours on commit drop as
select p.oid as fn, l.lanname as language, p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype as is_trigger,
       p.prosecdef as definer, p.proconfig as config
from pg_catalog.pg_proc as p
join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
join pg_catalog.pg_language as l on l.oid = p.prolang
where (n.nspname = 'public' or n.nspname ~ '^(passport|coliseum|treasury|concierto|companon)(_private)?$')
  and not exists (
    select from pg_catalog.pg_depend as d
    where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid and d.deptype = 'e'
  );

-- Findings that are wrong, each with why. Keyed by the function's signature and the message.
create temporary table allowed (function text, message text, reason text) on commit drop;
insert into allowed values
  ('treasury_private.ensure_wallet(uuid)', 'control reached end of function without RETURN',
   'its LOOP has no EXIT and ends only by one of its two RETURNs; plpgsql_check does not see that such a loop never falls through');

create temporary table findings on commit drop as
select c.fn::pg_catalog.regprocedure::text as function, c.lineno, c.level, c.message, c.detail,
       pg_catalog.string_agg(distinct c.rel::pg_catalog.regclass::text, ', ') filter (where c.rel <> 0) as tables
from (
  with checked as materialized (
    select distinct o.fn, coalesce(t.tgrelid, 0) as rel, t.tgnewtable, t.tgoldtable
    from ours as o
    left join pg_catalog.pg_trigger as t on t.tgfoid = o.fn
    where o.language = 'plpgsql' and (not o.is_trigger or t.tgrelid is not null)
  )
  select x.fn, x.rel, r.*
  from checked as x
  cross join lateral extensions.plpgsql_check_function_tb(
    x.fn, x.rel,
    fatal_errors => false, other_warnings => true, extra_warnings => true,
    performance_warnings => true, security_warnings => true,
    newtable => x.tgnewtable, oldtable => x.tgoldtable) as r
) as c
where c.level <> 'performance'
   or (c.message = 'target type is different type than source type'
       and not exists (
         select from pg_catalog.pg_cast as k
         where k.castsource = pg_catalog.to_regtype(substring(c.detail from '^cast "(.*)" value to "'))
           and k.casttarget = pg_catalog.to_regtype(substring(c.detail from ' value to "(.*)" type$'))
           and k.castcontext = 'i'))
group by c.fn, c.lineno, c.level, c.message, c.detail;

select cmp_ok((select count(*)::int from ours where language = 'plpgsql'), '>', 0,
              'the lint has PL/pgSQL functions to check');

select is(
  (select pg_catalog.string_agg(E'\n    ' || o.fn::pg_catalog.regprocedure::text, '' order by 1)
   from ours as o
   where o.language = 'plpgsql' and o.is_trigger
     and not exists (select from pg_catalog.pg_trigger as t where t.tgfoid = o.fn)),
  null,
  'every PL/pgSQL trigger function has a trigger (plpgsql_check needs its table)'
);

select is(
  (select pg_catalog.string_agg(
            format(E'\n    %s line %s%s: %s: %s%s', f.function, coalesce(f.lineno::text, '-'),
                   coalesce(' (on ' || f.tables || ')', ''), f.level, f.message, coalesce(' — ' || f.detail, '')),
            '' order by f.function, f.lineno, f.message)
   from findings as f
   where not exists (select from allowed as a where a.function = f.function and a.message = f.message)),
  null,
  'plpgsql_check finds nothing that matters (function, line in its body as \sf+ numbers it, message)'
);

select is(
  (select pg_catalog.string_agg(E'\n    ' || a.function || ': ' || a.message, '' order by 1)
   from allowed as a
   where a.function in (select o.fn::pg_catalog.regprocedure::text from ours as o where o.language = 'plpgsql')
     and not exists (select from findings as f where f.function = a.function and f.message = a.message)),
  null,
  'every allowed finding still occurs (drop the entry once the function changed)'
);

select is(
  (select pg_catalog.string_agg(E'\n    ' || o.fn::pg_catalog.regprocedure::text, '' order by 1)
   from ours as o
   where o.definer and not coalesce('search_path=""' = any (o.config), false)),
  null,
  'every security definer function sets search_path = '''''
);

select * from finish();
rollback;
