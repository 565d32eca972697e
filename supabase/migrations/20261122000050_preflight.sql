-- Preflight: before any other migration changes anything, make sure the database holds none of the
-- objects they create. The Supabase CLI runs each migration file in its own transaction, so a clash
-- met halfway (an older public.passport_entries, say) would leave the earlier files applied and the
-- database half installed. Instead this stops first, with one error that lists every clashing
-- object. docs/adoption.md says how to move the app's objects aside and push again.
--
-- It creates nothing, so it can also be run by hand as a dry run:
--   psql "$DATABASE_URL" -f supabase/migrations/20261122000050_preflight.sql
--
-- A database where these migrations already ran (supabase_migrations.schema_migrations records the
-- foundation) holds these objects as its own and passes.
--
-- The names below are every schema, every object in public and every pg_cron job the migrations
-- create; the Rust test tests/tests/preflight.rs fails when a migration adds one that is missing here.

do $preflight$
declare
  schemas constant text[] := array[
    'passport', 'coliseum', 'treasury', 'concierto', 'companon', 'people',
    'passport_private', 'coliseum_private', 'treasury_private', 'concierto_private', 'companon_private',
    'people_private'];
  -- Tables and views, with the indexes and sequences named after them: renaming a table keeps
  -- those names, so they are checked on their own.
  relations constant text[] := array[
    'passport_entries', 'passport_entries_id_seq', 'passport_entries_pkey',
    'passport_entries_user_client_event_key', 'passport_entries_timeline_idx', 'passport_entries_pending_idx',
    'passport_entries_location_set_idx',
    'coliseum_dna_mutations', 'coliseum_dna_mutations_id_seq', 'coliseum_dna_mutations_pkey',
    'coliseum_dna_mutations_entry_domain_key', 'coliseum_dna_mutations_artist_idx',
    'coliseum_domain_strength', 'coliseum_domain_strength_pkey', 'coliseum_domain_strength_board_idx',
    'coliseum_leaderboard_a_7d', 'coliseum_leaderboard_a_30d', 'coliseum_leaderboard_a_alltime',
    'coliseum_leaderboard_t_7d', 'coliseum_leaderboard_t_30d', 'coliseum_leaderboard_t_alltime',
    'coliseum_leaderboard_g_7d', 'coliseum_leaderboard_g_30d', 'coliseum_leaderboard_g_alltime',
    'coliseum_leaderboard_c_7d', 'coliseum_leaderboard_c_30d', 'coliseum_leaderboard_c_alltime',
    'coliseum_leaderboard_overall_7d', 'coliseum_leaderboard_overall_30d', 'coliseum_leaderboard_overall_alltime',
    'treasury_ledger', 'treasury_ledger_id_seq', 'treasury_ledger_pkey', 'treasury_ledger_account_idx',
    'treasury_ledger_txn_idx',
    'treasury_splits', 'treasury_splits_id_seq', 'treasury_splits_pkey', 'treasury_splits_line_key',
    'treasury_splits_party_idx',
    'event_tickets', 'event_tickets_pkey', 'event_tickets_seat_key', 'event_tickets_event_idx',
    'event_tickets_owner_idx', 'event_tickets_tier_idx'];
  jobs constant text[] := array[
    'buckets-prune-cron-history', 'passport-prune-rejections', 'coliseum-process', 'coliseum-fast-path',
    'treasury-prune-webhook-rejections', 'treasury-process-payouts', 'concierto-expire-orders',
    'companon-complete-ended', 'companon-expire-offers', 'companon-measure', 'treasury-refund-worker',
    'people-prune-notifications', 'people-badges-monthly', 'treasury-apply-stripe-events',
    'buckets-partition-maintenance', 'coliseum-rank-history-days'];
  applied boolean := false;
  clashes text[];
  cron_clashes text[];
begin
  if to_regclass('supabase_migrations.schema_migrations') is not null then
    execute 'select exists (select from supabase_migrations.schema_migrations where version = $1)'
      into applied using '20261122000100';
  end if;
  if applied then
    return;
  end if;

  select array_agg(c.what order by c.what collate "C") into clashes
  from (
    select format('schema %I', n.nspname) as what
    from pg_catalog.pg_namespace as n
    where n.nspname = any (schemas)
    union all
    select format('%s public.%I', case r.relkind
                                    when 'r' then 'table' when 'p' then 'table' when 'v' then 'view'
                                    when 'm' then 'materialized view' when 'S' then 'sequence'
                                    when 'i' then 'index' when 'I' then 'index' when 'f' then 'foreign table'
                                    when 'c' then 'type'
                                    else 'relation'
                                  end, r.relname)
           || coalesce(' (on ' || (select format('%I.%I', t.relnamespace::regnamespace, t.relname)
                                    from pg_catalog.pg_index as x
                                    join pg_catalog.pg_class as t on t.oid = x.indrelid
                                    where x.indexrelid = r.oid) || ')', '')
    from pg_catalog.pg_class as r
    where r.relnamespace = 'public'::regnamespace and r.relname = any (relations)
    union all
    -- Enums, domains and ranges (a table's row type is reported as the table).
    select format('type public.%I', t.typname)
    from pg_catalog.pg_type as t
    where t.typnamespace = 'public'::regnamespace and t.typrelid = 0 and t.typname = any (relations)
    union all
    select format('extension %I (in schema %I)', e.extname, e.extnamespace::regnamespace)
    from pg_catalog.pg_extension as e
    where e.extname = 'pg_coliseum'
  ) as c;

  -- cron.schedule replaces a job of the same name: the app's job would silently become ours.
  if to_regclass('cron.job') is not null then
    execute 'select array_agg(format(''pg_cron job %s'', j.jobname) order by j.jobname collate "C")
             from cron.job as j where j.jobname = any ($1)'
      into cron_clashes using jobs;
    clashes := coalesce(clashes, '{}') || coalesce(cron_clashes, '{}');
  end if;

  if cardinality(clashes) > 0 then
    raise exception using
      errcode = '42710',
      message = format('Buckets cannot be installed next to %s existing object(s) of the same name; nothing was '
                       'changed. Move them aside as docs/adoption.md describes, then push again:' || E'\n  - %s',
                       cardinality(clashes), array_to_string(clashes, E'\n  - ')),
      hint = 'docs/adoption.md: "Installing next to an existing app".';
  end if;
end
$preflight$;
