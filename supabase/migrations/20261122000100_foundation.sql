-- Foundation: one schema per system for what the app may call, a `_private`
-- twin for internal helpers, pg_cron for scheduled jobs, and function
-- privileges that are never granted by accident.

-- On Supabase the platform creates pg_cron (Dashboard > Integrations > Cron), as its superuser and in
-- pg_catalog; then this is a no-op. Where it is missing and the role may create it (supautils allows
-- postgres to on hosted projects), it lands where Supabase puts it.
create extension if not exists pg_cron with schema pg_catalog;

create schema if not exists passport;
create schema if not exists coliseum;
create schema if not exists treasury;
create schema if not exists concierto;
create schema if not exists companon;

create schema if not exists passport_private;
create schema if not exists coliseum_private;
create schema if not exists treasury_private;
create schema if not exists concierto_private;
create schema if not exists companon_private;

comment on schema passport is 'Passport: the append-only event log. Functions the app and producers call.';
comment on schema coliseum is 'Coliseum: artist DNA and leaderboards computed from the Passport log.';
comment on schema treasury is 'Treasury: ledger, splits, payments and payouts.';
comment on schema concierto is 'Concierto: live events and tickets.';
comment on schema companon is 'Companon: brand campaigns that target artists by DNA.';
comment on schema passport_private is 'Internal helpers of Passport. Not reachable by the API roles.';
comment on schema coliseum_private is 'Internal helpers of Coliseum. Not reachable by the API roles.';
comment on schema treasury_private is 'Internal helpers of Treasury. Not reachable by the API roles.';
comment on schema concierto_private is 'Internal helpers of Concierto. Not reachable by the API roles.';
comment on schema companon_private is 'Internal helpers of Companon. Not reachable by the API roles.';

-- The API roles may look into the system schemas; what they may do there is
-- granted object by object. The _private schemas get no grant at all, so
-- their functions run only inside security definer functions and jobs.
grant usage on schema passport, coliseum, treasury, concierto, companon
  to anon, authenticated, service_role;

-- Postgres lets every role execute a new function unless told otherwise, and
-- per-schema default privileges can only add to the global ones, never take
-- away. So the default is turned off globally for functions this role
-- creates, and turned back on for `public` and `extensions`, where Supabase's
-- convention (and tools such as pgTAP) expect it. In the system schemas every
-- function therefore carries the grants its migration gives it, and no more.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public grant execute on functions to public;
alter default privileges in schema extensions grant execute on functions to public;

-- Whether the calling role reads `rel` without row level security anyway:
-- a superuser, a BYPASSRLS role (service_role) or a member of the table's
-- owner. The caller is the role the session switched to with SET ROLE
-- (PostgREST does so per request), read from the `role` setting: unlike
-- current_user it stays the caller's inside security definer functions.
-- Shared by every system (Coliseum's plans, Treasury's and Concierto's
-- privileged paths), so they all draw the line in the same place.
create function passport_private.caller_is_privileged(rel regclass)
returns boolean
language sql
stable
as $$
  select coalesce((
    select r.rolsuper or r.rolbypassrls or pg_catalog.pg_has_role(r.oid, c.relowner, 'MEMBER')
    from pg_catalog.pg_roles as r,
         pg_catalog.pg_class as c
    where r.rolname = coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user)
      and c.oid = rel), false)
$$;

-- pg_cron writes a cron.job_run_details row per run and never deletes one: a
-- job every second adds 86,400 rows a day. Every 10 minutes this drops runs
-- that ended more than 7 days ago, at most 50,000 per call (oldest first), so
-- one call stays short however large a backlog is; 7.2 million rows a day can
-- go. A run that never recorded its end counts from its start.
create function passport_private.prune_cron_history(
  max_age interval default interval '7 days',
  max_rows int default 50000
)
returns bigint
language plpgsql
as $$
declare
  pruned bigint;
begin
  delete from cron.job_run_details as d
  where d.runid in (select r.runid
                    from cron.job_run_details as r
                    where coalesce(r.end_time, r.start_time) < now() - max_age
                    order by r.runid
                    limit max_rows);
  get diagnostics pruned = row_count;
  return pruned;
end
$$;

select cron.schedule(
  'buckets-prune-cron-history',
  '*/10 * * * *',
  'select passport_private.prune_cron_history()'
);
