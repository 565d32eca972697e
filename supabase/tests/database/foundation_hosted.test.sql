-- What hosted Supabase adds to plain Postgres, and the migrations must respect:
-- - safeupdate: PostgREST's sessions load it, and it refuses a DELETE or an UPDATE without a
--   WHERE clause in any statement it parses, including the statements of a function (and of
--   the functions and triggers that one runs). A full-table write says `where true`.
-- - pg_cron keeps a row per run in cron.job_run_details forever: the migrations schedule its
--   retention.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(7);

-- safeupdate ------------------------------------------------------------------------------

-- The DELETE and UPDATE statements of a SQL or PL/pgSQL body that have no WHERE at their own
-- level, as "delete from <table>" / "update <table> ...". A static reading of the source, with
-- its limits: comments and string literals are skipped, so statements built as strings for
-- EXECUTE are not seen; C functions (pg_coliseum) have no SQL source to read; a WHERE is looked
-- for, not judged (`where true` passes, as it does under safeupdate). It reads every function
-- of our schemas, not only those the API roles may execute, because any of them can run inside
-- a call made through PostgREST.
create function pg_temp.unguarded_writes(src text)
returns setof text
language plpgsql
immutable
as $$
declare
  tokens text[];
  n int;
  depth int := 0;
  -- The writes still open: the parenthesis depth they started at, their start, and
  -- whether a WHERE was met at that depth.
  open_depth int[] := '{}';
  open_text text[] := '{}';
  open_guarded boolean[] := '{}';
  t text;
  k int;
begin
  src := lower(src);
  src := regexp_replace(src, '/\*.*?\*/', ' ', 'g');
  src := regexp_replace(src, '--[^\n]*', ' ', 'g');
  src := regexp_replace(src, '''(?:[^'']|'''')*''', ' '''' ', 'g');
  select array_agg(m[1] order by o) into tokens
  from regexp_matches(src, '([a-z_][a-z0-9_$]*|[();]|[^a-z_();\s]+)', 'g') with ordinality as r(m, o);
  n := coalesce(cardinality(tokens), 0);
  for i in 1 .. n + 1 loop
    t := case when i <= n then tokens[i] else ';' end;
    if t = '(' then
      depth := depth + 1;
    elsif t in (')', ';') then
      -- A ; ends the writes open at this depth, a ) those opened inside it.
      k := cardinality(open_depth);
      while k > 0 and open_depth[k] >= depth loop
        if not open_guarded[k] then
          return next open_text[k];
        end if;
        open_depth := open_depth[1:k - 1];
        open_text := open_text[1:k - 1];
        open_guarded := open_guarded[1:k - 1];
        k := k - 1;
      end loop;
      if t = ')' then
        depth := depth - 1;
      end if;
    elsif t = 'where' then
      k := cardinality(open_depth);
      if k > 0 and open_depth[k] = depth then
        open_guarded[k] := true;
      end if;
    elsif (t = 'delete' and tokens[i + 1] = 'from')
          -- UPDATE <table> [[AS] alias] SET, not FOR [NO KEY] UPDATE, DO UPDATE SET or a trigger event.
          or (t = 'update' and coalesce(tokens[i - 1], '') not in ('for', 'key', 'do', 'or', 'before', 'after', 'of')
              and tokens[i + 1] <> 'set' and 'set' = any (tokens[i + 2:i + 6])) then
      open_depth := open_depth || depth;
      open_text := open_text || array_to_string(tokens[i:i + 4], ' ');
      open_guarded := open_guarded || false;
    end if;
  end loop;
end
$$;

select is(
  (select array_agg(w order by i) from unnest(array[
     'delete from t;', 'delete from t where a', 'with d as (delete from t returning *) select 1',
     'update t set a = (select 1 from u where x);', 'update t as x set a = 1 where b',
     'insert into t values (1) on conflict (a) do update set b = 1', 'select 1 from t for update',
     'select * from t for no key update skip locked', 'if x then delete from a.b; end if; update a set b = 1 where true',
     E'delete from t -- where x\n;', 'delete from t where ''x'' = ''delete from u'''])
     with ordinality as c(src, i), pg_temp.unguarded_writes(c.src) as w),
  array['delete from t ;', 'delete from t returning *', 'update t set a =', 'delete from a . b', 'delete from t ;'],
  'the check finds full-table writes in statements, CTEs and blocks, and nothing else'
);

select is(
  (select array_agg(p.oid::regprocedure::text || ': ' || w order by 1)
   from pg_catalog.pg_proc as p
   join pg_catalog.pg_language as l on l.oid = p.prolang and l.lanname in ('sql', 'plpgsql')
   cross join lateral pg_temp.unguarded_writes(p.prosrc) as w
   where p.pronamespace::regnamespace::text
         in ('public', 'passport', 'coliseum', 'treasury', 'concierto', 'companon',
             'passport_private', 'coliseum_private', 'treasury_private', 'concierto_private', 'companon_private')),
  null,
  'no function of ours deletes or updates without a WHERE (write "where true" for a full-table statement)'
);

-- cron.job_run_details retention ----------------------------------------------------------

select results_eq(
  $$select schedule, command, active from cron.job where jobname = 'buckets-prune-cron-history'$$,
  $$values ('*/10 * * * *', 'select passport_private.prune_cron_history()', true)$$,
  'a pg_cron job prunes the run history every 10 minutes'
);

select jobid as job from cron.job where jobname = 'buckets-prune-cron-history' \gset
insert into cron.job_run_details (jobid, job_pid, database, username, command, status, return_message, start_time, end_time)
select :job, 0, 'postgres', 'postgres', 'buckets-test-' || g, 'succeeded', '',
       now() - make_interval(days => g) - interval '1 minute', now() - make_interval(days => g)
from generate_series(10, 1, -1) as g; -- in the order they ran: runids grow with time
insert into cron.job_run_details (jobid, job_pid, database, username, command, status, return_message, start_time, end_time)
values (:job, 0, 'postgres', 'postgres', 'buckets-test-unfinished', 'running', '', now() - interval '8 days', null);

select is(passport_private.prune_cron_history(max_rows => 2), 2::bigint, 'a call removes at most max_rows runs ...');
select is((select array_agg(command order by command) from cron.job_run_details where command like 'buckets-test-%' and jobid = :job
           and command in ('buckets-test-10', 'buckets-test-9')), null, '... the oldest first');
select ok(passport_private.prune_cron_history() >= 2, 'the rest of what is older than 7 days goes next');
select is((select array_agg(command order by command) from cron.job_run_details where command like 'buckets-test-%' and jobid = :job),
          array['buckets-test-1', 'buckets-test-2', 'buckets-test-3', 'buckets-test-4', 'buckets-test-5', 'buckets-test-6',
                'buckets-test-7'],
          'runs of the last 7 days stay; an unfinished run counts from its start');

select * from finish();
rollback;
