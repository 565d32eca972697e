//! The preflight migration (`supabase/migrations/20261122000050_preflight.sql`): a push into a
//! database that already holds an object of ours stops before anything changes, with one error
//! that lists every clash; the adoption steps of docs/adoption.md clear it; a database where the
//! migrations ran passes; and its lists name every object the migrations create.

use buckets_e2e::{connect, connect_to_database, hosted_url_var, MAIN_URL_VAR};
use std::collections::BTreeSet;
use tokio_postgres::Client;

const PREFLIGHT: &str = include_str!("../../supabase/migrations/20261122000050_preflight.sql");
const PROBE: &str = "buckets_preflight_probe";

/// Runs the preflight: `None` when it passes, else the objects it lists.
async fn preflight(client: &Client) -> Option<BTreeSet<String>> {
    let err = client.batch_execute(PREFLIGHT).await.err()?;
    let db = err.as_db_error().unwrap_or_else(|| panic!("a database error, got {err}"));
    assert_eq!(db.code().code(), "42710", "{}", db.message());
    let mut lines = db.message().lines();
    assert!(
        lines.next().is_some_and(|head| head.contains("docs/adoption.md")),
        "the message points to the adoption steps: {}",
        db.message()
    );
    Some(lines.map(|l| l.trim_start_matches("  - ").to_string()).collect())
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn an_older_app_database_is_refused_until_its_objects_move_aside() {
    let var = hosted_url_var();
    let admin = connect(var).await;
    admin
        .batch_execute(&format!("drop database if exists {PROBE} with (force)"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("create database {PROBE}"))
        .await
        .expect("postgres may create databases (CREATEDB)");
    let app = connect_to_database(var, PROBE).await;
    // What an app built before Buckets might hold.
    app.batch_execute(
        "create table public.passport_entries (id bigserial primary key, user_id uuid not null, kind text not null, payload jsonb);
         create view public.coliseum_leaderboard_a_7d as select 1 as rank;
         create type public.event_tickets as enum ('issued', 'used');
         create schema treasury;
         create table public.profiles (id uuid primary key);",
    )
    .await
    .unwrap();
    let schemas = "select count(*) from pg_namespace";
    let before: i64 = app.query_one(schemas, &[]).await.unwrap().get(0);

    assert_eq!(
        preflight(&app).await,
        Some(set(&[
            "index public.passport_entries_pkey (on public.passport_entries)",
            "schema treasury",
            "sequence public.passport_entries_id_seq",
            "table public.passport_entries",
            "type public.event_tickets",
            "view public.coliseum_leaderboard_a_7d",
        ])),
        "every clash in one error, the app's other objects left out"
    );
    let after: i64 = app.query_one(schemas, &[]).await.unwrap().get(0);
    assert_eq!(before, after, "the preflight creates nothing");

    // docs/adoption.md, step 2: move the clashing objects to a schema of their own (their indexes,
    // sequences and constraints move with them), rename a clashing schema.
    app.batch_execute(
        "create schema legacy;
         alter table public.passport_entries set schema legacy;
         alter view public.coliseum_leaderboard_a_7d set schema legacy;
         alter type public.event_tickets set schema legacy;
         alter schema treasury rename to legacy_treasury;",
    )
    .await
    .unwrap();
    assert_eq!(preflight(&app).await, None, "nothing clashes once the app's objects moved aside");

    drop(app);
    admin.batch_execute(&format!("drop database {PROBE} with (force)")).await.unwrap();
}

/// Everything of ours the preflight must know, read from a database where the migrations ran:
/// the schemas that are neither Postgres' nor the platform's, every object in public that no
/// extension owns, the pg_cron jobs and pg_coliseum.
const OURS: &str = "
  select format('schema %I', n.nspname)
  from pg_namespace as n
  where n.nspname !~ '^pg_'
    and n.nspname not in ('information_schema', 'public', 'extensions', 'auth', 'cron', 'supabase_migrations', 'partman')
  union all
  select format('%s public.%I', case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view'
                                                when 'S' then 'sequence' when 'i' then 'index' when 'I' then 'index'
                                                when 'm' then 'materialized view' else c.relkind::text end,
                c.relname)
         || coalesce(' (on public.' || (select quote_ident(t.relname) from pg_index as x join pg_class as t on t.oid = x.indrelid
                                        where x.indexrelid = c.oid) || ')', '')
  from pg_class as c
  where c.relnamespace = 'public'::regnamespace
    -- The months of a partitioned table come and go with pg_partman's maintenance; the parent is ours.
    and not c.relispartition
    and not exists (select from pg_depend as d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
  union all
  select format('type public.%I', t.typname)
  from pg_type as t
  where t.typnamespace = 'public'::regnamespace and t.typrelid = 0 and t.typelem = 0
    and not exists (select from pg_depend as d where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype = 'e')
  union all
  select format('pg_cron job %s', j.jobname) from cron.job as j
  union all
  select format('extension %I (in schema %I)', e.extname, e.extnamespace::regnamespace)
  from pg_extension as e where e.extname = 'pg_coliseum'";

#[tokio::test]
async fn the_preflight_knows_every_object_the_migrations_create() {
    for var in [MAIN_URL_VAR, hosted_url_var()] {
        let client = connect(var).await;
        assert_eq!(preflight(&client).await, None, "{var}: a database where the migrations ran passes");

        let ours: BTreeSet<String> = client.query(OURS, &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert!(ours.len() > 50, "{var}: {} objects", ours.len());
        // Seen as a database that never ran them, it must name each of them.
        client.batch_execute("begin").await.unwrap();
        client
            .batch_execute("delete from supabase_migrations.schema_migrations where version = '20261122000100'")
            .await
            .expect("postgres owns the migration record");
        let reported = preflight(&client).await;
        client.batch_execute("rollback").await.unwrap();
        let reported = reported.unwrap_or_default();
        assert_eq!(
            ours.difference(&reported).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{var}: objects the migrations created that the preflight does not check (add them to its lists)"
        );
        assert_eq!(ours, reported, "{var}");
    }
}
