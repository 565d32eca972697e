//! The processor applies the counting rules as their reference does: random plays by a few fans
//! (bursts inside one slot, repeats of a few tracks, days over the cap, plays under 30 s) go
//! through passport.ingest and the processor in batches, and every stored play carries the units
//! `buckets_core::coliseum::PlayCounter` gives it when fed the log in id order. Run on the main
//! cluster (pg_coliseum) and the hosted-shape one (the SQL twins).

use buckets_core::coliseum::{PlayCounter, Tier};
use buckets_e2e::{connect, hosted_url_var, ingest, math_implementation, process_all, seeded_rng, MAIN_URL_VAR};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::Rng;
use serde_json::{json, Value};
use tokio_postgres::Client;
use uuid::Uuid;

fn plays(rng: &mut impl Rng, fans: &[Uuid], artists: &[Uuid], now: DateTime<Utc>) -> Vec<Value> {
    let mut events = Vec::new();
    while events.len() < 3_000 {
        // A session: one fan, one artist, 1..80 plays from a handful of tracks, seconds to
        // minutes apart, starting two to five days ago.
        let fan = fans[rng.random_range(0..fans.len())];
        let artist = artists[rng.random_range(0..artists.len())];
        let tracks = rng.random_range(1..15);
        let gap = [1, 20, 200, 2_000][rng.random_range(0..4)];
        // Sessions end before now: they span at most 80 x 2,000 s.
        let mut at = now - Duration::seconds(rng.random_range(2 * 86_400..5 * 86_400));
        for _ in 0..rng.random_range(1..80) {
            at += Duration::seconds(rng.random_range(0..=gap));
            events.push(json!({
                "user_id": fan.to_string(),
                "source": "app",
                "kind": "audio.play",
                "client_event_id": Uuid::new_v4().to_string(),
                "occurred_at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
                "artist_id": artist.to_string(),
                "payload": {
                    "track_id": format!("00000000-0000-4000-8000-{:012x}", rng.random_range(0..tracks)),
                    "duration_ms": if rng.random_bool(0.9) { 31_000 } else { 12_000 },
                },
            }));
        }
    }
    events
}

async fn check(client: &Client, label: &str) {
    let mut rng = seeded_rng(label);
    let fans: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    let artists: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let events = plays(&mut rng, &fans, &artists, Utc::now());
    let results = ingest(client, &events).await;
    let rejected: Vec<&Value> = results.iter().filter(|r| r["status"] == "rejected").collect();
    assert!(rejected.is_empty(), "the workload must be valid: {rejected:?}");
    process_all(client, &artists).await;

    let rows = client
        .query(
            "select e.user_id, e.artist_id, e.payload ->> 'track_id', least(e.occurred_at, e.received_at), m.units
               from public.passport_entries as e
               join public.coliseum_dna_mutations as m on m.entry_id = e.id and m.domain = 'T'
              where e.artist_id = any($1)
              order by e.id",
            &[&artists],
        )
        .await
        .unwrap();
    let mut reference = PlayCounter::default();
    let (mut full, mut half, mut none) = (0, 0, 0);
    for r in &rows {
        let (fan, artist, track, at): (Uuid, Uuid, String, DateTime<Utc>) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let units: i64 = r.get(4);
        let expected = reference.play(&fan, &artist, &track, Tier::Signal, at.timestamp_micros());
        assert_eq!(units, expected, "{label}: the play of {fan} at {artist}, track {track}, at {at}");
        match units {
            10 => full += 1,
            5 => half += 1,
            _ => none += 1,
        }
    }
    println!(
        "{label} ({}): {full} full, {half} half, {none} not counted",
        math_implementation(client).await
    );
    assert!(
        full > 100 && half > 50 && none > 100,
        "every rule is exercised ({full}, {half}, {none})"
    );
}

#[tokio::test]
async fn the_processor_counts_plays_as_the_reference_does_with_the_extension() {
    check(&connect(MAIN_URL_VAR).await, "counting-main").await;
}

#[tokio::test]
async fn the_processor_counts_plays_as_the_reference_does_with_the_twins() {
    check(&connect(hosted_url_var()).await, "counting-twins").await;
}
