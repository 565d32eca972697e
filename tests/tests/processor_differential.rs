//! The Coliseum processor gives the same DNA with pg_coliseum (main cluster)
//! and with the SQL twins (the hosted-shape cluster): the same random events go into
//! both, are processed, scored as of one instant, and compared row by row.

use buckets_e2e::workload::event;
use buckets_e2e::{connect, hosted_url_var, ingest, process_all, seeded_rng, MAIN_URL_VAR};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Client;
use uuid::Uuid;

async fn ingest_valid(client: &Client, events: &[Value]) {
    let results = ingest(client, events).await;
    let rejected: Vec<&Value> = results.iter().filter(|r| r["status"] == "rejected").collect();
    assert!(rejected.is_empty(), "the workload must be valid: {rejected:?}");
}

/// Processes until none of `artists`' entries is pending, then scores them as of `as_of`.
async fn process_and_score(
    client: &Client,
    artists: &[Uuid],
    as_of: DateTime<Utc>,
) -> Vec<(String, String, String, f64, f64, Value, i64, i64)> {
    process_all(client, artists).await;
    client
        .execute("select coliseum_private.refresh_artists($1, $2, false)", &[&artists, &as_of])
        .await
        .expect("refresh_artists runs");
    client
        .query(
            "select artist_id::text, domain, period, score, raw, components, events, fans
               from public.coliseum_domain_strength where artist_id = any($1) order by 1, 2, 3",
            &[&artists],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7)))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Numbers in components may differ in the last bits where a sum runs in another order.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => close(x.as_f64().unwrap(), y.as_f64().unwrap()),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w))),
        _ => a == b,
    }
}

#[tokio::test]
async fn extension_and_twins_derive_the_same_dna() {
    let main = connect(MAIN_URL_VAR).await;
    let twins = connect(hosted_url_var()).await;
    let mut rng = seeded_rng("processor");
    let now = Utc::now();
    let fans: Vec<Uuid> = (0..120).map(|_| Uuid::new_v4()).collect();
    let artists: Vec<Uuid> = (0..15).map(|_| Uuid::new_v4()).collect();
    let events: Vec<Value> = (0..4_000).map(|_| event(&mut rng, &fans, &artists, now, 40)).collect();
    ingest_valid(&main, &events).await;
    ingest_valid(&twins, &events).await;
    let as_of = Utc::now();
    let from_extension = process_and_score(&main, &artists, as_of).await;
    let from_twins = process_and_score(&twins, &artists, as_of).await;
    assert_eq!(from_extension.len(), artists.len() * 5 * 3, "every artist has 5 boards x 3 periods");
    assert_eq!(from_extension.len(), from_twins.len());
    let mut nonzero = 0;
    for (e, t) in from_extension.iter().zip(&from_twins) {
        assert_eq!((&e.0, &e.1, &e.2, e.6, e.7), (&t.0, &t.1, &t.2, t.6, t.7), "keys and counts");
        assert!(close(e.3, t.3) && close(e.4, t.4), "score/raw differ: {e:?} vs {t:?}");
        assert!(same_json(&e.5, &t.5), "components differ: {} vs {}", e.5, t.5);
        nonzero += (e.3 > 0.0) as usize;
    }
    assert!(
        nonzero > from_extension.len() / 2,
        "the workload must give most boards a score ({nonzero})"
    );

    // The mutations themselves are the same, entry for entry (matched by client_event_id).
    let q = "select e.client_event_id, m.domain, m.artist_id::text, m.fan_id::text, m.weight, m.amount_usd_cents,
                    m.genre, m.city, m.country::text, m.units
               from public.coliseum_dna_mutations m join public.passport_entries e on e.id = m.entry_id
              where m.artist_id = any($1) order by 1, 2";
    type Mutation = (
        String,
        String,
        String,
        String,
        f64,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
    );
    let read = |rows: Vec<tokio_postgres::Row>| -> Vec<Mutation> {
        rows.iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                    r.get(8),
                    r.get(9),
                )
            })
            .collect()
    };
    let a = read(main.query(q, &[&artists]).await.unwrap());
    let b = read(twins.query(q, &[&artists]).await.unwrap());
    assert!(a.len() > 1_000, "the workload yields mutations ({})", a.len());
    assert_eq!(a, b);
}
