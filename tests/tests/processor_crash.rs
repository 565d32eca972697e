//! Exactly once, the hard way, on the main cluster: four processors draining
//! the queue at once, then the database killed (`pg_ctl stop -m immediate`) in
//! the middle of a batch and restarted; no entry may be lost or counted twice,
//! and the incremental state must equal a rebuild from the whole log.

use buckets_e2e::workload::event;
use buckets_e2e::{connect, ingest, seeded_rng, MAIN_URL_VAR};
use chrono::Utc;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use tokio_postgres::Client;
use uuid::Uuid;

const PG_CTL: &str = "/usr/lib/postgresql/15/bin/pg_ctl";

/// Runs pg_ctl as the postgres user. The server it starts must not inherit our
/// descriptors (an outer `flock` would stay held for as long as it runs), so a
/// shell closes every descriptor above 2 first.
fn pg_ctl(args: &[&str]) {
    let data = std::env::var("BUCKETS_MAIN_PGDATA").expect("BUCKETS_MAIN_PGDATA is set by ./stack test");
    let close_and_exec = r#"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#;
    let status = Command::new("runuser")
        .args(["-u", "postgres", "--", "bash", "-c", close_and_exec, "pg_ctl", PG_CTL, "-D", &data])
        .args(args)
        .status()
        .expect("runuser runs pg_ctl");
    assert!(status.success(), "pg_ctl {args:?} failed");
}

async fn count(client: &Client, sql: &str, artists: &[Uuid]) -> i64 {
    client
        .query_one(sql, &[&artists])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// Entries that count for DNA, and how many mutations they must give.
const EXPECTED: &str = "select count(*) from public.passport_entries e
    join passport.event_kinds k on k.name = e.kind cross join unnest(k.domains)
   where e.artist_id = any($1) and e.coliseum_processed_at is not null
     and (k.dna_threshold_field is null or (e.payload ->> k.dna_threshold_field)::numeric >= k.dna_threshold_min)";
const STORED: &str = "select count(*) from public.coliseum_dna_mutations m where m.artist_id = any($1)";
const PENDING: &str = "select count(*) from public.passport_entries where artist_id = any($1) and coliseum_processed_at is null";
/// A mutation whose entry is not marked, or a marked counting entry without its mutations.
const TORN: &str = "select (select count(*) from public.coliseum_dna_mutations m join public.passport_entries e on e.id = m.entry_id
                             where m.artist_id = any($1) and e.coliseum_processed_at is null)
                         + (select count(*) from public.passport_entries e join passport.event_kinds k on k.name = e.kind
                             where e.artist_id = any($1) and e.coliseum_processed_at is not null and cardinality(k.domains) > 0
                               and (k.dna_threshold_field is null or (e.payload ->> k.dna_threshold_field)::numeric >= k.dna_threshold_min)
                               and not exists (select from public.coliseum_dna_mutations m where m.entry_id = e.id))";

async fn assert_exactly_once(client: &Client, artists: &[Uuid]) {
    assert_eq!(count(client, TORN, artists).await, 0, "marks and mutations disagree");
    let expected = count(client, EXPECTED, artists).await;
    assert!(expected > 0);
    assert_eq!(
        count(client, STORED, artists).await,
        expected,
        "every counting entry gives exactly its mutations"
    );
}

async fn drain(client: &Client, per_call: i32) -> i64 {
    let mut total = 0i64;
    loop {
        let n: i32 = client
            .query_one("select coliseum.process_pending($1)", &[&per_call])
            .await
            .expect("process_pending")
            .get(0);
        if n == 0 {
            return total;
        }
        total += n as i64;
    }
}

type Snapshot = (Vec<String>, Vec<(String, String, String, f64, String, i64, i64)>);

/// Mutations (without ids and processing times) and strengths as of `as_of`.
async fn snapshot(client: &Client, artists: &[Uuid], as_of: chrono::DateTime<Utc>) -> Snapshot {
    client
        .execute("select coliseum_private.refresh_artists($1, $2, false)", &[&artists, &as_of])
        .await
        .expect("refresh");
    let mutations = client
        .query(
            "select concat_ws('|', e.client_event_id, m.domain, m.artist_id, m.fan_id, m.kind, m.occurred_at, m.tier, m.weight,
                              m.amount_usd_cents, m.genre, m.city, m.country, m.rules_version)
               from public.coliseum_dna_mutations m join public.passport_entries e on e.id = m.entry_id
              where m.artist_id = any($1) order by 1",
            &[&artists],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let strengths = client
        .query(
            "select artist_id::text, domain, period, score, components::text, events, fans
               from public.coliseum_domain_strength where artist_id = any($1) order by 1, 2, 3",
            &[&artists],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
        .collect();
    (mutations, strengths)
}

/// Keeps the fast path and the every-minute safety net from processing while
/// the test holds the queue, and the active badges from logging `badge.earned`
/// entries into it as the processors award them (the demo activates the
/// starter badges; docs/badges.md); all come back when it ends, pass or fail.
struct PausedFastPath {
    url: String,
    badges: Vec<i64>,
}

impl Drop for PausedFastPath {
    fn drop(&mut self) {
        let ids = self.badges.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let _ = Command::new("psql")
            .args([self.url.as_str(), "-qAtc"])
            .arg(format!(
                "update people.badges set active = true where id = any('{{{ids}}}'::bigint[]); \
                 update cron.job set active = true where jobname = 'coliseum-process'; select coliseum.start_processor();"
            ))
            .status();
    }
}

async fn pause_fast_path(main: &Client, url: &str) -> PausedFastPath {
    let badges = main
        .query("update people.badges set active = false where active returning id", &[])
        .await
        .expect("the badges can be paused")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let resume = PausedFastPath {
        url: url.to_string(),
        badges,
    };
    main.execute("update cron.job set active = false where jobname = 'coliseum-process'", &[])
        .await
        .expect("the safety net can be paused");
    // A run the scheduler launched just before the pause may still (re)start the worker: let it finish first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for _ in 0..600 {
        let running: i64 = main
            .query_one(
                "select count(*) from pg_stat_activity where query like '%coliseum.process_pending(50000)%' and pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    main.execute("select coliseum.stop_processor()", &[])
        .await
        .expect("the fast path can be stopped");
    let running: bool = main.query_one("select coliseum.processor_running()", &[]).await.unwrap().get(0);
    assert!(!running, "the worker is stopped for the test");
    resume
}

#[tokio::test]
async fn concurrent_processors_and_a_crash_neither_lose_nor_double_count() {
    let url = std::env::var(MAIN_URL_VAR).expect("run with ./stack test");
    let main = connect(MAIN_URL_VAR).await;
    let _resume = pause_fast_path(&main, &url).await;
    let mut rng = seeded_rng("crash");
    let now = Utc::now();
    let fans: Vec<Uuid> = (0..400).map(|_| Uuid::new_v4()).collect();
    let artists: Vec<Uuid> = (0..12).map(|_| Uuid::new_v4()).collect();

    // 1. Four processors at once, on a queue holding only this test's entries.
    drain(&main, 5_000).await;
    let events: Vec<Value> = (0..12_000).map(|_| event(&mut rng, &fans, &artists, now, 35)).collect();
    ingest(&main, &events).await;
    let mut workers = Vec::new();
    for _ in 0..4 {
        let client = connect(MAIN_URL_VAR).await;
        workers.push(tokio::spawn(async move { drain(&client, 700).await }));
    }
    let mut processed = 0;
    for w in workers {
        processed += w.await.expect("a processor task");
    }
    assert_eq!(processed, 12_000, "the four processors together took every entry once");
    assert_eq!(count(&main, PENDING, &artists).await, 0);
    assert_exactly_once(&main, &artists).await;

    // 2. Kill the database in the middle of a large batch.
    let more: Vec<Value> = (0..30_000).map(|_| event(&mut rng, &fans, &artists, now, 35)).collect();
    ingest(&main, &more).await;
    let victim = connect(MAIN_URL_VAR).await;
    let batch = tokio::spawn(async move { victim.query_one("select coliseum.process_pending(30000)", &[]).await.map(|_| ()) });
    let mut started = false;
    for _ in 0..200 {
        let active: i64 = main
            .query_one(
                "select count(*) from pg_stat_activity where state = 'active' and query like 'select coliseum.process_pending(30000)%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if active > 0 {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(started, "the batch started");
    tokio::time::sleep(Duration::from_millis(150)).await;
    // The batch holds its claims uncommitted, so another session still counts them as pending.
    let pending_before_crash = count(&main, PENDING, &artists).await;
    pg_ctl(&["stop", "-m", "immediate"]);
    assert!(batch.await.unwrap().is_err(), "the batch was cut off by the crash");
    pg_ctl(&["-w", "-t", "120", "-l", "/tmp/buckets-crash-restart.log", "start"]);
    let (main, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("the cluster is back");
    tokio::spawn(connection);
    assert_eq!(count(&main, TORN, &artists).await, 0, "nothing half-written survived the crash");
    assert_eq!(
        count(&main, PENDING, &artists).await,
        pending_before_crash,
        "the cut-off batch left every one of its entries pending"
    );
    drain(&main, 5_000).await;
    assert_eq!(count(&main, PENDING, &artists).await, 0);
    assert_exactly_once(&main, &artists).await;

    // 3. The incremental state equals a rebuild from the whole log, as of one instant.
    let as_of = Utc::now();
    let incremental = snapshot(&main, &artists, as_of).await;
    main.execute("select coliseum.rebuild($1)", &[&as_of]).await.expect("rebuild runs");
    let rebuilt = snapshot(&main, &artists, as_of).await;
    assert!(incremental.0.len() > 10_000);
    assert_eq!(incremental.0, rebuilt.0, "mutations");
    assert_eq!(incremental.1.len(), rebuilt.1.len());
    for (a, b) in incremental.1.iter().zip(&rebuilt.1) {
        assert_eq!((&a.0, &a.1, &a.2, a.5, a.6), (&b.0, &b.1, &b.2, b.5, b.6));
        assert!((a.3 - b.3).abs() <= 1e-9 * a.3.abs().max(1.0), "score {a:?} vs {b:?}");
    }
    main.execute("select coliseum.start_processor()", &[])
        .await
        .expect("the fast path restarts");
}
