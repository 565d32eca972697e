-- Foundation: one schema per system for what the app may call, a `_private`
-- twin for internal helpers, pg_cron for scheduled jobs, and function
-- privileges that are never granted by accident.

-- This step holds tables, types, indexes, data and cron jobs. Its functions, views, triggers,
-- policies and grants (the schemas' grants and the default privileges: sql/foundation/privileges.sql)
-- live in sql/foundation/, one file per object (docs/database-sources.md),
-- and the generated steps install them, as sql/manifest.txt lists:
-- 20261122000110_foundation_code.sql                   after it

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

select cron.schedule(
  'buckets-prune-cron-history',
  '*/10 * * * *',
  'select passport_private.prune_cron_history()'
);
