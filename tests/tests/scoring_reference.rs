//! The refresh scores artists from running aggregates (hour buckets, totals, per-fan and
//! per-place last times, and the events of hours that straddle an edge). This test scores the
//! same artists the straightforward way — every mutation read and decayed one by one
//! (tests/sql/reference_scores.sql) — and requires the same scores, components and counts, as of
//! an instant chosen so that events sit on both sides of every window and decay edge.

use buckets_e2e::workload::event;
use buckets_e2e::{connect, hosted_url_var, ingest, process_all, seeded_rng, MAIN_URL_VAR};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::Rng;
use serde_json::Value;
use tokio_postgres::Client;
use uuid::Uuid;

type Row = (String, String, String, f64, f64, Value, i64, i64);

fn close(a: f64, b: f64) -> bool {
    // The reference rounds each decayed weight to 1e-9; the refresh adds exact integers.
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => close(x.as_f64().unwrap(), y.as_f64().unwrap()),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w))),
        _ => a == b,
    }
}

fn read(rows: Vec<tokio_postgres::Row>) -> Vec<Row> {
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7)))
        .collect()
}

async fn check(client: &Client, test: &str) {
    client.batch_execute("set time zone 'UTC'").await.unwrap();
    let mut rng = seeded_rng(test);
    let now = Utc::now();
    let fans: Vec<Uuid> = (0..80).map(|_| Uuid::new_v4()).collect();
    let artists: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
    let mut events: Vec<Value> = (0..2_500).map(|_| event(&mut rng, &fans, &artists, now, 45)).collect();
    // Crowd the edges (7, 27 and 30 days back) and the next minutes, where hours are mixed.
    for back in [7i64, 27, 30] {
        for _ in 0..300 {
            let mut e = event(&mut rng, &fans, &artists, now, 1);
            let at = now - Duration::days(back) + Duration::seconds(rng.random_range(-300..300));
            e["occurred_at"] = at.to_rfc3339_opts(SecondsFormat::Micros, true).into();
            events.push(e);
        }
    }
    // Binges across the edges: one fan's 45 plays of three tracks within ten minutes, so that
    // plays the counting rules weigh half or not at all sit in the hours read one by one.
    for back in [7i64, 27, 30] {
        let (fan, artist) = (fans[rng.random_range(0..fans.len())], artists[rng.random_range(0..artists.len())]);
        for i in 0..45 {
            let at = now - Duration::days(back) + Duration::seconds(rng.random_range(-300..300));
            events.push(serde_json::json!({
                "user_id": fan.to_string(), "source": "app", "kind": "audio.play",
                "client_event_id": Uuid::new_v4().to_string(),
                "occurred_at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
                "artist_id": artist.to_string(),
                "payload": {"track_id": format!("00000000-0000-4000-8000-{:012x}", i / 15 * 100 + i % 3), "duration_ms": 40_000},
            }));
        }
    }
    for _ in 0..100 {
        let mut e = event(&mut rng, &fans, &artists, now, 1);
        let at = now + Duration::seconds(rng.random_range(0..200));
        e["occurred_at"] = at.to_rfc3339_opts(SecondsFormat::Micros, true).into();
        events.push(e);
    }
    let results = ingest(client, &events).await;
    let rejected: Vec<&Value> = results.iter().filter(|r| r["status"] == "rejected").collect();
    assert!(rejected.is_empty(), "the workload must be valid: {rejected:?}");

    process_all(client, &artists).await;

    let as_of: DateTime<Utc> = Utc::now();
    let mixed: i64 = client
        .query_one(
            "select count(distinct (h.artist_id, h.hour)) from coliseum_private.dna_hours as h
              where h.artist_id = any($1)
                and coliseum_private.cell(h.first_at, $2) <> coliseum_private.cell(h.last_at, $2)",
            &[&artists, &as_of],
        )
        .await
        .unwrap()
        .get(0);
    let reduced: i64 = client
        .query_one(
            "select count(*) from public.coliseum_dna_mutations where artist_id = any($1) and units < coliseum.tier_units(tier)",
            &[&artists],
        )
        .await
        .unwrap()
        .get(0);
    assert!(reduced > 20, "the counting rules must reduce some plays ({reduced})");
    println!("{test}: {mixed} hours straddle an edge");
    assert!(
        mixed >= 4,
        "the workload must put events on both sides of the edges ({mixed} mixed hours)"
    );

    client
        .execute("select coliseum_private.refresh_artists($1, $2, false)", &[&artists, &as_of])
        .await
        .expect("refresh_artists runs");
    let stored = read(
        client
            .query(
                "select artist_id::text, domain, period, score, raw, components, events, fans
                   from public.coliseum_domain_strength where artist_id = any($1) order by 1, 2, 3",
                &[&artists],
            )
            .await
            .unwrap(),
    );
    client
        .batch_execute(include_str!("../sql/reference_scores.sql"))
        .await
        .expect("the reference loads");
    let reference = read(
        client
            .query(
                "select artist_id::text, domain, period, score, raw, components, events, fans
                   from pg_temp.reference_scores($1, $2) order by 1, 2, 3",
                &[&artists, &as_of],
            )
            .await
            .unwrap(),
    );
    assert_eq!(stored.len(), artists.len() * 15, "every artist has 5 boards x 3 periods");
    assert_eq!(stored.len(), reference.len());
    let mut nonzero = 0;
    for (s, r) in stored.iter().zip(&reference) {
        assert_eq!((&s.0, &s.1, &s.2, s.6, s.7), (&r.0, &r.1, &r.2, r.6, r.7), "keys and counts");
        assert!(close(s.3, r.3) && close(s.4, r.4), "score/raw differ: {s:?} vs reference {r:?}");
        assert!(same_json(&s.5, &r.5), "components differ: {} vs reference {}", s.5, r.5);
        nonzero += (s.3 > 0.0) as usize;
    }
    assert!(nonzero > stored.len() / 2, "the workload must give most boards a score ({nonzero})");
}

#[tokio::test]
async fn aggregates_score_like_the_mutations_with_the_extension() {
    check(&connect(MAIN_URL_VAR).await, "scoring-reference-main").await;
}

#[tokio::test]
async fn aggregates_score_like_the_mutations_with_the_twins() {
    check(&connect(hosted_url_var()).await, "scoring-reference-hosted").await;
}
