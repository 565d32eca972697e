-- Adds to today's count of an alias. The row stays locked until the writer's
-- transaction ends: ingest calls this last; passport.log inside its caller's
-- transaction (the platform's own producers never use aliases).
create or replace function passport_private.count_alias_use(alias text, source text, received bigint, stored bigint)
returns void
language sql
as $$
  insert into passport.alias_use as u (day, alias, source, kind, received, stored)
  select (now() at time zone 'UTC')::date, a.alias, count_alias_use.source, a.kind,
         count_alias_use.received, count_alias_use.stored
  from passport.event_kind_aliases as a
  where a.alias = count_alias_use.alias
  on conflict (day, alias, source) do update
    set received = u.received + excluded.received, stored = u.stored + excluded.stored
$$;
