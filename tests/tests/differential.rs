//! Two implementations must agree on many random inputs:
//! - the coliseum math: pg_coliseum (main cluster) vs its SQL twins (the
//!   hosted-shape cluster) vs `buckets_core` itself, bit for bit (the twins evaluate the
//!   same float8 operations in the same order, so no tolerance is needed),
//!   and with the same SQLSTATE and message where they fail;
//! - the Passport rules: `buckets_core::passport::check_event` (what the edge
//!   runs) vs `passport.check_event` (what the database enforces).
//!
//! Inputs come from a seeded generator; a failure prints the seed, and
//! `BUCKETS_SEED=<n>` replays it.

use buckets_core::coliseum::{concentration, event_weight, normalized_entropy, strength_score, MetricError};
use buckets_core::passport::{check_event, find_kind, EventKind, FieldType, Source, ALIASES, ARTIST_ID, KINDS};
use buckets_e2e::{connect, extension_and_twins, hosted_url_var, math_implementation, seeded_rng, MAIN_URL_VAR};
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Map, Value};
use tokio_postgres::Client;

const DAY_US: i64 = 86_400_000_000;

fn at(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().expect("in range")
}

async fn weights(client: &Client, tiers: &[i16], occurred: &[DateTime<Utc>], as_of: &[DateTime<Utc>]) -> Vec<(f64, f64, f64)> {
    let rows = client
        .query(
            "select coliseum.event_weight(t.tier, t.occ, t.as_of), coliseum.recency_decay(t.occ, t.as_of), coliseum.tier_multiplier(t.tier)
               from unnest($1::int2[], $2::timestamptz[], $3::timestamptz[]) with ordinality as t(tier, occ, as_of, i)
              order by t.i",
            &[&tiers, &occurred, &as_of],
        )
        .await
        .expect("the weight functions run");
    rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
}

#[tokio::test]
async fn extension_and_sql_twins_compute_identical_weights() {
    let (main, twins) = extension_and_twins().await;

    let mut rng = seeded_rng("weights");
    let n = 20_000;
    let now = Utc::now().timestamp_micros();
    let mut tiers = Vec::with_capacity(n);
    let mut occurred = Vec::with_capacity(n);
    let mut as_of = Vec::with_capacity(n);
    for i in 0..n {
        let as_of_us = now + rng.random_range(-400 * DAY_US..400 * DAY_US);
        // A quarter of the ages sit on the interesting points: 0, the floor's
        // start at day 27, the window's end at day 30, and just around them.
        let age = match i % 4 {
            0 => [0, 27 * DAY_US, 30 * DAY_US, -1, 1, 27 * DAY_US - 1, 27 * DAY_US + 1][rng.random_range(0..7)],
            1 => rng.random_range(-2 * DAY_US..0),
            _ => rng.random_range(0..60 * DAY_US),
        };
        tiers.push(rng.random_range(1..=5i16));
        occurred.push(at(as_of_us - age));
        as_of.push(at(as_of_us));
    }
    let from_extension = weights(&main, &tiers, &occurred, &as_of).await;
    let from_twins = weights(&twins, &tiers, &occurred, &as_of).await;
    for i in 0..n {
        let rust = event_weight(tiers[i] as i64, occurred[i].timestamp_micros(), as_of[i].timestamp_micros()).unwrap();
        let ctx = format!("tier {} occurred {} as_of {}", tiers[i], occurred[i], as_of[i]);
        assert_eq!(from_extension[i].0.to_bits(), rust.to_bits(), "extension vs Rust: {ctx}");
        assert_eq!(from_twins[i], from_extension[i], "twins vs extension: {ctx}");
    }
}

#[tokio::test]
async fn both_implementations_refuse_a_bad_tier_the_same_way() {
    let main = connect(MAIN_URL_VAR).await;
    let twins = connect(hosted_url_var()).await;
    for tier in [0i16, 6, -1, i16::MAX] {
        let mut seen = Vec::new();
        for client in [&main, &twins] {
            let err = client
                .query_one("select coliseum.event_weight($1, now(), now())", &[&tier])
                .await
                .expect_err("a tier outside 1..5 is refused");
            let db = err.as_db_error().expect("a database error");
            seen.push((db.code().code().to_string(), db.message().to_string()));
        }
        assert_eq!(seen[0].0, "22023", "tier {tier}: {:?}", seen[0]);
        assert_eq!(seen[0], seen[1], "tier {tier}");
    }
}

/// A raw strength: log-uniform over the whole scale, plus the edges.
fn raw_strength(rng: &mut StdRng) -> f64 {
    let edges = [
        0.0,
        -0.0,
        -1.0,
        1.0,
        1e7,
        1e7 - 1.0,
        1e7 + 1.0,
        (1e7f64 + 1.0).sqrt() - 1.0,
        5e-324,
        1e-300,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    match rng.random_range(0..10) {
        0 => edges[rng.random_range(0..edges.len())],
        1 => -(10f64.powf(rng.random_range(-3.0..9.0))),
        _ => 10f64.powf(rng.random_range(-6.0..12.0)),
    }
}

/// An element of a weights array: mostly what the domain metrics pass (sums of
/// event weights), sometimes NULL, zero, negative, extreme or not finite.
fn weight_element(rng: &mut StdRng) -> Option<f64> {
    match rng.random_range(0..100) {
        0..=7 => None,
        8..=11 => Some(0.0),
        12..=15 => Some(-rng.random_range(0.0..100.0)),
        16..=23 => Some([0.01, 0.1, 1.0, 10.0, 100.0, 1000.0][rng.random_range(0..6)]),
        24..=25 => Some([1e-200, 1e-310, 5e-324, f64::MIN_POSITIVE, 1e300, 1.7e308, f64::MAX][rng.random_range(0..7)]),
        26 => Some([f64::NAN, f64::INFINITY, f64::NEG_INFINITY][rng.random_range(0..3)]),
        _ => Some(10f64.powf(rng.random_range(-3.0..9.0))),
    }
}

type Metric = fn(&[f64]) -> Result<f64, MetricError>;

/// Evaluates `coliseum.<function>` on many arrays in one query: they travel
/// as one flat array (NULLs included) and the bounds of each slice.
async fn spread_values(client: &Client, function: &str, arrays: &[&Vec<Option<f64>>]) -> Vec<f64> {
    let mut flat = Vec::new();
    let (mut lo, mut hi) = (Vec::new(), Vec::new());
    for a in arrays {
        lo.push(flat.len() as i32 + 1);
        flat.extend(a.iter().copied());
        hi.push(flat.len() as i32);
    }
    let rows = client
        .query(
            &format!(
                "select coliseum.{function}(($1::float8[])[b.lo:b.hi])
                   from unnest($2::int4[], $3::int4[]) with ordinality as b(lo, hi, i)
                  order by b.i"
            ),
            &[&flat, &lo, &hi],
        )
        .await
        .unwrap_or_else(|e| panic!("coliseum.{function} fails where Rust does not: {e}"));
    rows.iter().map(|r| r.get(0)).collect()
}

async fn spread_error(client: &Client, function: &str, array: &[Option<f64>]) -> (String, String) {
    let err = client
        .query_one(&format!("select coliseum.{function}($1::float8[])"), &[&array])
        .await
        .expect_err("Rust refuses this array");
    let db = err.as_db_error().expect("a database error");
    (db.code().code().to_string(), db.message().to_string())
}

#[tokio::test]
async fn extension_and_sql_twins_compute_identical_strength_scores() {
    let (main, twins) = extension_and_twins().await;

    let mut rng = seeded_rng("strength_score");
    let raws: Vec<f64> = (0..20_000).map(|_| raw_strength(&mut rng)).collect();
    let sql = "select coliseum.strength_score(r) from unnest($1::float8[]) with ordinality as t(r, i) order by t.i";
    let from_extension: Vec<f64> = main.query(sql, &[&raws]).await.unwrap().iter().map(|r| r.get(0)).collect();
    let from_twins: Vec<f64> = twins.query(sql, &[&raws]).await.unwrap().iter().map(|r| r.get(0)).collect();
    for (i, raw) in raws.iter().enumerate() {
        let rust = strength_score(*raw);
        assert_eq!(from_extension[i].to_bits(), rust.to_bits(), "extension vs Rust: raw {raw:e}");
        assert_eq!(
            from_twins[i].to_bits(),
            rust.to_bits(),
            "twins vs Rust: raw {raw:e} ({} vs {rust})",
            from_twins[i]
        );
    }
}

#[tokio::test]
async fn extension_and_sql_twins_compute_identical_spreads() {
    let (main, twins) = extension_and_twins().await;

    let mut rng = seeded_rng("spreads");
    let arrays: Vec<Vec<Option<f64>>> = (0..5_000)
        .map(|i| {
            // Some arrays repeat one value: equal parts are where rounding could push entropy past 1.
            let len = rng.random_range(0..=12);
            if i % 10 == 0 {
                vec![weight_element(&mut rng); len]
            } else {
                (0..len).map(|_| weight_element(&mut rng)).collect()
            }
        })
        .collect();
    let metrics: [(&str, Metric); 2] = [("normalized_entropy", normalized_entropy), ("concentration", concentration)];
    for (function, metric) in metrics {
        let rust: Vec<Result<f64, MetricError>> = arrays
            .iter()
            .map(|a| metric(&a.iter().flatten().copied().collect::<Vec<f64>>()))
            .collect();
        let ok: Vec<usize> = (0..arrays.len()).filter(|&i| rust[i].is_ok()).collect();
        let refused: Vec<usize> = (0..arrays.len()).filter(|&i| rust[i].is_err()).collect();
        // The generator must reach both outcomes, or half of the contract is untested.
        assert!(
            ok.len() > 3_000 && refused.len() > 50,
            "{function}: {} ok, {} refused",
            ok.len(),
            refused.len()
        );

        let subset: Vec<&Vec<Option<f64>>> = ok.iter().map(|&i| &arrays[i]).collect();
        let from_extension = spread_values(&main, function, &subset).await;
        let from_twins = spread_values(&twins, function, &subset).await;
        for (j, &i) in ok.iter().enumerate() {
            let expected = *rust[i].as_ref().unwrap();
            let ctx = format!("{function}({:?})", arrays[i]);
            assert_eq!(from_extension[j].to_bits(), expected.to_bits(), "extension vs Rust: {ctx}");
            assert_eq!(
                from_twins[j].to_bits(),
                expected.to_bits(),
                "twins vs Rust: {ctx} ({} vs {expected})",
                from_twins[j]
            );
        }
        for &i in &refused {
            let err = rust[i].unwrap_err();
            let expected = (err.sqlstate().to_string(), err.to_string());
            let ctx = format!("{function}({:?})", arrays[i]);
            assert_eq!(
                spread_error(&main, function, &arrays[i]).await,
                expected,
                "extension vs Rust: {ctx}"
            );
            assert_eq!(spread_error(&twins, function, &arrays[i]).await, expected, "twins vs Rust: {ctx}");
        }
    }
    for client in [&main, &twins] {
        let row = client
            .query_one(
                "select coliseum.normalized_entropy(null), coliseum.concentration(null), coliseum.strength_score(null)",
                &[],
            )
            .await
            .unwrap();
        let nulls: (Option<f64>, Option<f64>, Option<f64>) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(nulls, (None, None, None), "strict: NULL in, NULL out");
    }
}

/// A random value for a field: valid most of the time, otherwise one of the
/// ways clients get it wrong.
fn field_value(rng: &mut StdRng, ty: FieldType) -> Value {
    if rng.random_bool(0.2) {
        return invalid_value(rng, ty);
    }
    match ty {
        FieldType::Text => match rng.random_range(0..4) {
            0 => json!("é".repeat(rng.random_range(1..=500))),
            1 => json!("a".repeat(500)),
            _ => json!(format!("v{}", rng.random_range(0..1000))),
        },
        FieldType::Integer { min } => {
            let lo = min.unwrap_or(-1_000_000);
            let v = rng.random_range(lo..lo + 2_000_000);
            if rng.random_bool(0.1) {
                json!(v as f64)
            } else {
                json!(v)
            }
        }
        FieldType::Number { min } => json!(min.unwrap_or(-1000) as f64 + rng.random_range(0.0..5000.0)),
        FieldType::Boolean => json!(rng.random_bool(0.5)),
        FieldType::Uuid => {
            let id = uuid::Uuid::new_v4().to_string();
            json!(if rng.random_bool(0.2) { id.to_uppercase() } else { id })
        }
        FieldType::Timestamp => {
            let t = at(rng.random_range(0..4_000_000_000_000_000));
            json!(match rng.random_range(0..3) {
                0 => t.to_rfc3339_opts(SecondsFormat::Secs, true),
                1 => t.to_rfc3339_opts(SecondsFormat::Micros, false),
                _ => t.format("%Y-%m-%d %H:%M:%S%.3f+02:00").to_string(),
            })
        }
        FieldType::Currency => json!(["EUR", "USD", "NGN", "GBP"][rng.random_range(0..4)]),
        FieldType::Country => json!(["NG", "US", "FR", "BR"][rng.random_range(0..4)]),
    }
}

fn invalid_value(rng: &mut StdRng, ty: FieldType) -> Value {
    let common = [json!(null), json!([1]), json!({"a": 1})];
    if rng.random_bool(0.25) {
        return common[rng.random_range(0..common.len())].clone();
    }
    match ty {
        FieldType::Text => [json!(""), json!("a".repeat(501)), json!(5), json!(true)][rng.random_range(0..4)].clone(),
        FieldType::Integer { min } => {
            let below = min.map_or(json!("12"), |m| json!(m - 1));
            [json!(5.5), json!("7"), below, json!(1e300), json!(u64::MAX)][rng.random_range(0..5)].clone()
        }
        FieldType::Number { min } => {
            [json!("1.5"), json!(true), json!(min.map_or(-1.0, |m| m as f64 - 0.5))][rng.random_range(0..3)].clone()
        }
        FieldType::Boolean => [json!("true"), json!(1)][rng.random_range(0..2)].clone(),
        FieldType::Uuid => [
            json!("6f1c1f5e8a7b4c1d9e2f0a1b2c3d4e5f"),
            json!("{6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f}"),
            json!("6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5g"),
            json!(42),
        ][rng.random_range(0..4)]
        .clone(),
        FieldType::Timestamp => [
            json!("2026-13-01T00:00:00Z"),
            json!("2026-02-30T00:00:00Z"),
            json!("2026-01-01"),
            json!("2026-01-01T00:00:00"),
            json!("2026-01-01T00:00:00.1234567891Z"),
            json!(1_700_000_000),
        ][rng.random_range(0..6)]
        .clone(),
        FieldType::Currency => [json!("eur"), json!("EURO"), json!("E1R")][rng.random_range(0..3)].clone(),
        FieldType::Country => [json!("ng"), json!("NGA"), json!("N")][rng.random_range(0..3)].clone(),
    }
}

struct Case {
    kind: String,
    source: Source,
    artist: Option<String>,
    payload: Map<String, Value>,
    occurred_us: i64,
}

fn random_case(rng: &mut StdRng, received_us: i64) -> Case {
    if rng.random_bool(0.15) {
        return alias_case(rng, received_us);
    }
    let known = &KINDS[rng.random_range(0..KINDS.len())];
    let kind = match rng.random_range(0..20) {
        0 => "audio.plya".to_string(),
        1 => format!("{}.x", known.family()),
        _ => known.name.to_string(),
    };
    case_of(rng, known, kind, received_us)
}

/// A case with the fields of `known`, sent as `kind`.
fn case_of(rng: &mut StdRng, known: &EventKind, kind: String, received_us: i64) -> Case {
    let source = if rng.random_bool(0.8) {
        known.producers[rng.random_range(0..known.producers.len())]
    } else {
        Source::ALL[rng.random_range(0..Source::ALL.len())]
    };
    let artist = rng.random_bool(0.85).then(|| uuid::Uuid::new_v4().to_string());
    let mut payload = Map::new();
    for field in known.fields {
        if rng.random_bool(0.85) {
            payload.insert(field.name.to_string(), field_value(rng, field.ty));
        }
    }
    if rng.random_bool(0.1) {
        let extra = ["mood", "Zeta", "aardvark", "track", "_x"][rng.random_range(0..5)];
        payload.insert(extra.to_string(), json!(1));
    }
    let five_min = 5 * 60 * 1_000_000;
    let occurred_us = match rng.random_range(0..10) {
        0 => received_us + five_min + rng.random_range(1..DAY_US),
        1 => received_us + five_min,
        2 => received_us + five_min + 1,
        _ => received_us - rng.random_range(0..90 * DAY_US),
    };
    Case {
        kind,
        source,
        artist,
        payload,
        occurred_us,
    }
}

/// An event under an alias: a case of its kind whose renamed fields are sent,
/// most of the time, under the alias's keys (the artist too: valid or not, in
/// place of the envelope's or next to it).
fn alias_case(rng: &mut StdRng, received_us: i64) -> Case {
    let alias = &ALIASES[rng.random_range(0..ALIASES.len())];
    let known = find_kind(alias.kind).expect("an alias names a kind");
    let mut case = case_of(rng, known, alias.alias.to_string(), received_us);
    for rename in alias.renames {
        if !rng.random_bool(0.8) {
            continue;
        }
        if rename.to == ARTIST_ID {
            let value = match rng.random_range(0..6) {
                0 => json!("not-a-uuid"),
                1 => json!(null),
                _ => json!(uuid::Uuid::new_v4().to_string()),
            };
            case.payload.insert(rename.from.to_string(), value);
            if rng.random_bool(0.8) {
                case.artist = None;
            }
        } else if let Some(value) = case.payload.remove(rename.to) {
            case.payload.insert(rename.from.to_string(), value);
            if rng.random_bool(0.1) {
                case.payload.insert(rename.to.to_string(), json!(uuid::Uuid::new_v4().to_string()));
            }
        }
    }
    case
}

#[tokio::test]
async fn edge_rules_and_database_rules_agree() {
    let main = connect(MAIN_URL_VAR).await;
    let mut rng = seeded_rng("rules");
    let received_us = Utc::now().timestamp_micros();
    let cases: Vec<Case> = (0..5_000).map(|_| random_case(&mut rng, received_us)).collect();
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "kind": c.kind,
                "source": c.source.name(),
                "artist_id": c.artist,
                "payload": c.payload,
                "occurred_at": at(c.occurred_us).to_rfc3339_opts(SecondsFormat::Micros, true),
            })
        })
        .collect();
    let rows = main
        .query(
            "select r.code, r.message
               from jsonb_array_elements($1::jsonb) with ordinality as e(ev, i)
               cross join lateral passport.check_event(e.ev->>'kind', e.ev->>'source', (e.ev->>'artist_id')::uuid,
                                                       e.ev->'payload', (e.ev->>'occurred_at')::timestamptz, $2::timestamptz) as r
              order by e.i",
            &[&Value::Array(input), &at(received_us)],
        )
        .await
        .expect("passport.check_event runs");
    assert_eq!(rows.len(), cases.len());
    let mut rejected = 0;
    for (case, row) in cases.iter().zip(&rows) {
        let sql: (Option<String>, Option<String>) = (row.get(0), row.get(1));
        let rust = match check_event(
            &case.kind,
            case.source,
            case.artist.is_some(),
            &case.payload,
            case.occurred_us,
            received_us,
        ) {
            Ok(_) => (None, None),
            Err(r) => (Some(r.code.as_str().to_string()), Some(r.message)),
        };
        rejected += rust.0.is_some() as usize;
        assert_eq!(
            sql,
            rust,
            "kind {} source {} artist {:?} payload {} occurred {}",
            case.kind,
            case.source.name(),
            case.artist,
            Value::Object(case.payload.clone()),
            at(case.occurred_us)
        );
    }
    // The generator must exercise both outcomes, or the test proves nothing.
    assert!(rejected > 500 && rejected < 4_500, "{rejected} of 5000 rejected");
}

/// The exact decay (integer units × µs) of single events and of buckets: pg_coliseum, the twins
/// and buckets_core give the same integers, and refuse a straddling bucket with the same error.
#[tokio::test]
async fn extension_and_sql_twins_compute_identical_decayed_units() {
    use buckets_core::coliseum::{bucket_decayed_units, decayed_units, tier_units};
    let main = connect(MAIN_URL_VAR).await;
    let twins = connect(hosted_url_var()).await;
    let mut rng = seeded_rng("decayed-units");
    let now = Utc::now().timestamp_micros();
    let edges = [0, 7 * DAY_US, 27 * DAY_US, 30 * DAY_US];

    // Single events, a third of them within a second of an edge.
    let n = 10_000;
    let (mut tiers, mut occurred, mut as_of, mut expected) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let tier: i16 = rng.random_range(1..=5);
        let a = now + rng.random_range(-100 * DAY_US..100 * DAY_US);
        let age = if rng.random_bool(0.33) {
            edges[rng.random_range(0..4)] + rng.random_range(-1_000_000..1_000_000)
        } else {
            rng.random_range(-DAY_US..60 * DAY_US)
        };
        tiers.push(tier);
        occurred.push(at(a - age));
        as_of.push(at(a));
        expected.push(decayed_units(i64::from(tier), a - age, a).unwrap());
    }
    let q = "select coliseum.decayed_units(t.tier, t.occ, t.as_of)
               from unnest($1::int2[], $2::timestamptz[], $3::timestamptz[]) with ordinality as t(tier, occ, as_of, i)
              order by t.i";
    for client in [&main, &twins] {
        let got: Vec<i64> = client
            .query(q, &[&tiers, &occurred, &as_of])
            .await
            .expect("decayed_units runs")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(got, expected);
    }

    // Buckets: one hour of random events near an edge or not; a clean one gives the sum of its
    // events, a straddling one the same error on both clusters.
    let (mut clean, mut straddling) = (0, 0);
    for _ in 0..2_000 {
        let start = now - rng.random_range(0..40 * DAY_US) / 3_600_000_000 * 3_600_000_000;
        let events: Vec<(i64, i64)> = (0..rng.random_range(1..30))
            .map(|_| (rng.random_range(1..=5), rng.random_range(0..3_600_000_000)))
            .collect();
        let first = start + events.iter().map(|e| e.1).min().unwrap();
        let last = start + events.iter().map(|e| e.1).max().unwrap();
        let as_of = if rng.random_bool(0.5) {
            first + edges[rng.random_range(0..4)] + rng.random_range(0..last - first + 1)
        } else {
            start + rng.random_range(-DAY_US..45 * DAY_US)
        };
        let units: i128 = events.iter().map(|e| i128::from(tier_units(e.0).unwrap())).sum();
        let unit_micros: i128 = events.iter().map(|e| i128::from(tier_units(e.0).unwrap()) * i128::from(e.1)).sum();
        let expected = bucket_decayed_units(units, unit_micros, start, first, last, as_of);
        let q = format!("select coliseum.bucket_decayed_units({units}, {unit_micros}, $1, $2, $3, $4)::text");
        let args: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [&at(start), &at(first), &at(last), &at(as_of)];
        let mut answers = vec![];
        for client in [&main, &twins] {
            answers.push(match client.query_one(q.as_str(), &args).await {
                Ok(row) => Ok(row.get::<_, String>(0)),
                Err(e) => {
                    let db = e.as_db_error().expect("a database error");
                    Err((db.code().code().to_string(), db.message().to_string()))
                }
            });
        }
        assert_eq!(
            answers[0], answers[1],
            "extension vs twins for {events:?} from {start} as of {as_of}"
        );
        match expected {
            Ok(total) => {
                clean += 1;
                let rows: i128 = events
                    .iter()
                    .map(|e| i128::from(decayed_units(e.0, start + e.1, as_of).unwrap()))
                    .sum();
                assert_eq!(total, rows, "a clean bucket is the sum of its events");
                assert_eq!(answers[0], Ok(total.to_string()));
            }
            Err(e) => {
                straddling += 1;
                assert_eq!(answers[0], Err(("22023".to_string(), e.to_string())));
            }
        }
    }
    assert!(
        clean > 500 && straddling > 100,
        "both kinds of bucket are exercised ({clean} clean, {straddling} straddling)"
    );
}

/// The counting rules' functions: pg_coliseum, the twins and buckets_core give the same slots,
/// slot decisions and day units, and refuse bad ranks, tiers and times with the same errors.
#[tokio::test]
async fn extension_and_sql_twins_apply_identical_counting_rules() {
    use buckets_core::coliseum::counting::{play_counts, play_slot, play_units, POSTGRES_EPOCH_UNIX_MICROS, SLOT_MICROS};
    use buckets_core::coliseum::Tier;
    let main = connect(MAIN_URL_VAR).await;
    let twins = connect(hosted_url_var()).await;
    let mut rng = seeded_rng("counting-rules");
    let now = Utc::now().timestamp_micros();
    let n = 10_000;
    let (mut times, mut tiers, mut slot_ranks, mut day_ranks, mut expected) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        // Half the instants within a second of a slot edge, some before 1970 and 2000.
        let t = if rng.random_bool(0.5) {
            (now + rng.random_range(-400 * DAY_US..DAY_US)) / SLOT_MICROS * SLOT_MICROS + rng.random_range(-1_000_000..1_000_000)
        } else {
            rng.random_range(-POSTGRES_EPOCH_UNIX_MICROS - 40 * 365 * DAY_US..now + 400 * DAY_US)
        };
        let tier: i16 = rng.random_range(1..=5);
        let slot_rank: i64 = rng.random_range(1..25);
        let day_rank: i64 = rng.random_range(1..45);
        let level = Tier::from_level(i64::from(tier)).unwrap();
        expected.push((play_slot(t), play_counts(slot_rank).unwrap(), play_units(level, day_rank).unwrap()));
        times.push(at(t));
        tiers.push(tier);
        slot_ranks.push(slot_rank);
        day_ranks.push(day_rank);
    }
    let q = "select coliseum.play_slot(t.at), coliseum.play_counts(t.slot_rank), coliseum.play_units(t.tier, t.day_rank)
               from unnest($1::timestamptz[], $2::int2[], $3::int8[], $4::int8[]) with ordinality as t(at, tier, slot_rank, day_rank, i)
              order by t.i";
    for client in [&main, &twins] {
        let got: Vec<(i64, bool, i64)> = client
            .query(q, &[&times, &tiers, &slot_ranks, &day_ranks])
            .await
            .expect("the counting functions run")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(got, expected, "{}", math_implementation(client).await);
    }
    for (sql, code, message) in [
        (
            "select coliseum.play_units(2::int2, 0)",
            "22023",
            "day_rank must be at least 1, got 0",
        ),
        (
            "select coliseum.play_units(0::int2, 5)",
            "22023",
            "tier must be between 1 and 5, got 0",
        ),
        ("select coliseum.play_counts(-4)", "22023", "slot_rank must be at least 1, got -4"),
        (
            "select coliseum.play_slot('-infinity')",
            "22008",
            "occurred_at must be a finite timestamp, got -infinity",
        ),
    ] {
        for client in [&main, &twins] {
            let err = client.query_one(sql, &[]).await.expect_err("refused");
            let db = err.as_db_error().expect("a database error");
            assert_eq!((db.code().code(), db.message()), (code, message), "{sql}");
        }
    }
}
