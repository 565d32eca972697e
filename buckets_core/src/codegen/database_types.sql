-- What the app may reach through the Data API, as one JSON document that `buckets-codegen types` turns into
-- supabase/types/database.ts. Run by psql with the variable `schemas` (the exposed schemas, a text[] literal).
-- Only what the roles `anon` or `authenticated` may use is listed: tables and views with a privilege of
-- theirs, functions they may execute. Everything is sorted, so the same database gives the same text.
with exposed as (
  select n.oid, n.nspname
  from pg_catalog.pg_namespace n
  where n.nspname = any (:'schemas'::text[])
),
app_role(name) as (values ('anon'), ('authenticated')),
relations as (
  select c.oid, c.relnamespace, c.relname, c.relkind
  from pg_catalog.pg_class c
  join exposed e on e.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f')
    and exists (
      select 1 from app_role r
      where pg_catalog.has_table_privilege(r.name, c.oid, 'select, insert, update, delete')
         or pg_catalog.has_any_column_privilege(r.name, c.oid, 'select, insert, update')
    )
),
columns as (
  select a.attrelid,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'name', a.attname,
           'type', a.atttypid,
           'nullable', not a.attnotnull,
           'has_default', a.atthasdef or a.attidentity <> '',
           'writable', a.attidentity <> 'a' and a.attgenerated = ''
             and (c.relkind not in ('v', 'm') or pg_catalog.pg_column_is_updatable(c.oid, a.attnum, false))
         ) order by a.attname) as list
  from pg_catalog.pg_attribute a
  join relations c on c.oid = a.attrelid
  where a.attnum > 0 and not a.attisdropped
  group by a.attrelid
),
relationships as (
  select k.conrelid,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'name', k.conname,
           'columns', (select pg_catalog.jsonb_agg(a.attname order by u.i)
                       from unnest(k.conkey) with ordinality u(n, i)
                       join pg_catalog.pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n),
           'one_to_one', exists (
             select 1 from pg_catalog.pg_index x
             where x.indrelid = k.conrelid and x.indisunique and x.indpred is null
               and (x.indkey::int2[])::int2[] @> k.conkey and k.conkey @> (x.indkey::int2[])::int2[]
           ),
           'referenced', t.relname,
           'referenced_columns', (select pg_catalog.jsonb_agg(a.attname order by u.i)
                                  from unnest(k.confkey) with ordinality u(n, i)
                                  join pg_catalog.pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n)
         ) order by k.conname, t.relname) as list
  from pg_catalog.pg_constraint k
  join relations c on c.oid = k.conrelid
  join pg_catalog.pg_class t on t.oid = k.confrelid and t.relnamespace = c.relnamespace
  where k.contype = 'f'
  group by k.conrelid
),
functions as (
  select p.oid, p.pronamespace, p.proname, p.proretset, p.prorettype, p.pronargs, p.pronargdefaults,
         -- proargtypes is an oidvector, whose subscripts start at 0: unnest it to an array that starts at 1.
         coalesce(p.proallargtypes, array(select unnest(p.proargtypes::oid[]))) as types,
         coalesce(p.proargmodes, pg_catalog.array_fill('i'::"char", array[p.pronargs::int])) as modes,
         coalesce(p.proargnames, pg_catalog.array_fill(''::text, array[p.pronargs::int])) as names
  from pg_catalog.pg_proc p
  join exposed e on e.oid = p.pronamespace
  where p.prokind = 'f'
    and p.prorettype not in ('pg_catalog.trigger'::pg_catalog.regtype, 'pg_catalog.event_trigger'::pg_catalog.regtype)
    and exists (select 1 from app_role r where pg_catalog.has_function_privilege(r.name, p.oid, 'execute'))
),
function_args as (
  select f.oid,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'name', coalesce(f.names[u.i], ''),
           'mode', u.mode,
           'type', f.types[u.i],
           -- The last pronargdefaults input arguments have defaults.
           'has_default', u.mode in ('i', 'b', 'v') and (
             select count(*) from unnest(f.modes[u.i + 1:]) m where m in ('i', 'b', 'v')
           ) < f.pronargdefaults
         ) order by u.i) as list
  from functions f, unnest(f.modes) with ordinality u(mode, i)
  group by f.oid
),
-- Every type the document names, with what it takes to spell it in TypeScript: arrays name their element,
-- domains their base, composites their attributes, enums their labels.
types as (
  select t.oid, n.nspname, t.typname, t.typtype, t.typcategory, t.typelem, t.typbasetype, t.typrelid
  from pg_catalog.pg_type t
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
  where n.nspname not in ('pg_toast', 'information_schema') and n.nspname !~ '^pg_temp_'
)
select pg_catalog.jsonb_build_object(
  'schemas', coalesce((
    select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'name', e.nspname,
      'relations', coalesce((
        select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'name', c.relname,
          'kind', c.relkind,
          'insertable', c.relkind in ('r', 'p', 'f') or (pg_catalog.pg_relation_is_updatable(c.oid, false) & 8) <> 0,
          'updatable', c.relkind in ('r', 'p', 'f') or (pg_catalog.pg_relation_is_updatable(c.oid, false) & 4) <> 0,
          'columns', coalesce(col.list, '[]'),
          'relationships', coalesce(rel.list, '[]')
        ) order by c.relname)
        from relations c
        left join columns col on col.attrelid = c.oid
        left join relationships rel on rel.conrelid = c.oid
        where c.relnamespace = e.oid
      ), '[]'),
      'functions', coalesce((
        select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'name', f.proname,
          'identity', pg_catalog.pg_get_function_identity_arguments(f.oid),
          'returns_set', f.proretset,
          'returns', f.prorettype,
          'args', coalesce(a.list, '[]')
        ) order by f.proname, pg_catalog.pg_get_function_identity_arguments(f.oid))
        from functions f
        left join function_args a on a.oid = f.oid
        where f.pronamespace = e.oid
      ), '[]'),
      'enums', coalesce((
        select pg_catalog.jsonb_agg(t.typname order by t.typname)
        from types t where t.nspname = e.nspname and t.typtype = 'e'
      ), '[]'),
      'composites', coalesce((
        select pg_catalog.jsonb_agg(t.typname order by t.typname)
        from types t where t.nspname = e.nspname and t.typtype = 'c'
          and exists (select 1 from pg_catalog.pg_class c where c.oid = t.typrelid and c.relkind = 'c')
      ), '[]')
    ) order by e.nspname)
    from exposed e
  ), '[]'),
  'types', (
    select pg_catalog.jsonb_object_agg(t.oid::text, pg_catalog.jsonb_build_object(
      'schema', t.nspname,
      'name', t.typname,
      'kind', t.typtype,
      'element', case when t.typcategory = 'A' then t.typelem end,
      'base', case when t.typtype = 'd' then t.typbasetype end,
      'labels', case when t.typtype = 'e' then (
        select pg_catalog.jsonb_agg(l.enumlabel order by l.enumsortorder)
        from pg_catalog.pg_enum l where l.enumtypid = t.oid
      ) end,
      'attributes', case when t.typtype = 'c' and t.nspname <> 'pg_catalog' then (
        select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'name', a.attname, 'type', a.atttypid, 'nullable', not a.attnotnull
        ) order by a.attnum)
        from pg_catalog.pg_attribute a
        where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
      ) end
    ))
    from types t
  )
)::text;
