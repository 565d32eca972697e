-- The parts of a Supabase project's database that the platform creates before any migration runs,
-- reproduced for the local stack only (./stack applies this once per fresh cluster, before the
-- migrations). It is never a migration: on hosted or self-hosted Supabase all of this exists already.
--
-- It runs as the cluster's superuser, whichever that is:
-- - the hosted-shape cluster: `supabase_admin`, after ./stack created the role `postgres`
--   (nosuperuser createrole createdb replication bypassrls, as Supabase demotes it) and gave it the
--   database `postgres`;
-- - the main cluster: `postgres` itself, so every grant to postgres below is a no-op there.
-- The role `postgres` therefore exists before this file runs and is never created here.
--
-- Kept to what our migrations and tests rely on; docs/local-stack.md lists the differences from a
-- real Supabase database.

-- Roles. PostgREST logs in as authenticator and switches to anon / authenticated / service_role
-- from the JWT's role claim; service_role bypasses row level security. Current projects make the
-- three API roles INHERIT (authenticator stays NOINHERIT), and grant them to postgres, so that
-- postgres (the SQL editor, pgTAP tests, migrations) can `set role` to them.
create role anon nologin inherit;
create role authenticated nologin inherit;
create role service_role nologin inherit bypassrls;
create role authenticator login noinherit password 'postgres';
grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;

-- Supabase's per-role timeouts (they apply to sessions that log in as, or are switched to, these roles).
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';

-- Extensions live in their own schema, which is on every role's search path.
create schema extensions;
grant all on schema extensions to postgres;
grant usage on schema extensions to anon, authenticated, service_role;
create extension pgcrypto with schema extensions;
create extension "uuid-ossp" with schema extensions;
alter database postgres set search_path = "$user", public, extensions;

-- What the API roles may do in public by default: Supabase grants everything and leaves access
-- control to row level security, so migrations revoke what a table must not allow. The defaults
-- cover what postgres creates (migrations) and what the platform's superuser creates.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to postgres, anon, authenticated, service_role;

-- Supabase Auth: the users table (a minimal subset of its columns) and the helpers that read the
-- JWT claims PostgREST puts in request.jwt.claims. The function bodies are Supabase's own.
create schema auth;
grant usage on schema auth to postgres, anon, authenticated, service_role;

create table auth.users (
  id uuid primary key,
  email text unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  raw_app_meta_data jsonb not null default '{}',
  raw_user_meta_data jsonb not null default '{}'
);
-- The platform's auth admin owns these; postgres may read and write users (and reference them).
grant all on auth.users to postgres;

create function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create function auth.email() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

-- Supabase Realtime listens to this publication; tables are added to it by migrations, which is
-- why postgres owns it.
create publication supabase_realtime;
alter publication supabase_realtime owner to postgres;

-- pg_cron, created by the superuser in pg_catalog as Supabase does. postgres may use the schema and
-- read and clean up the run history; jobs are created and removed with cron.schedule and
-- cron.unschedule only, since current projects take the writes on cron.job away from postgres.
create extension pg_cron with schema pg_catalog;
grant usage on schema cron to postgres;
grant all on all tables in schema cron to postgres;
grant all on all sequences in schema cron to postgres;
do $cron$
begin
  -- Where postgres is the superuser (and owns cron.job) it keeps its rights.
  if not (select rolsuper from pg_catalog.pg_roles where rolname = 'postgres') then
    revoke insert, update, delete, truncate on cron.job from postgres;
  end if;
end
$cron$;

-- pg_partman on the hosted-shape cluster, as Supabase provides it: in schema partman and owned by
-- postgres (Supabase hands the extension's objects to postgres, since its maintenance runs dynamic DDL
-- on the app's tables). A Supabase project lets postgres create it (supautils); this cluster has no
-- supautils, so the platform's superuser creates it here, which makes the migrations'
-- `create extension if not exists pg_partman` a no-op. On the main cluster postgres is the superuser
-- and the migration creates it.
do $partman$
declare
  member record;
begin
  if (select rolsuper from pg_catalog.pg_roles where rolname = 'postgres') then
    return;
  end if;
  create schema partman authorization postgres;
  create extension pg_partman with schema partman;
  for member in
    select d.classid::regclass as catalog, d.objid
    from pg_catalog.pg_depend as d
    join pg_catalog.pg_extension as e on e.oid = d.refobjid
    where d.refclassid = 'pg_extension'::regclass and d.deptype = 'e' and e.extname = 'pg_partman'
  loop
    if member.catalog = 'pg_class'::regclass then
      execute format('alter table %s owner to postgres', member.objid::regclass);
    elsif member.catalog = 'pg_proc'::regclass then
      execute format('alter routine %s owner to postgres', member.objid::regprocedure);
    end if;
  end loop;
end
$partman$;
