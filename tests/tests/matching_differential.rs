//! Companon's DNA matching: pg_coliseum (main cluster), its SQL twins (the
//! hosted-shape cluster) and `buckets_core::companon` must agree on many random
//! inputs. The stated tolerance is none: vectors and similarities are the same
//! float8 bits (the twins evaluate the same float8 operations in the same
//! order, and numbers cross JSON as their shortest round-trip text), drivers
//! the same JSON; bad arguments fail with the same SQLSTATE and message.
//!
//! Inputs come from a seeded generator; a failure prints the seed, and
//! `BUCKETS_SEED=<n>` replays it.

use buckets_core::companon::{dna_vector, drivers, similarity, target_vector, Driver, Scale, DIMENSIONS, DNA_LEN, DOMAINS};
use buckets_e2e::{extension_and_twins, seeded_rng};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Map, Value};
use tokio_postgres::Client;

/// A raw component value as Coliseum writes it, or something at the edges:
/// zero, tiny, beyond the scale's cap, negative (refunds), an integer.
fn raw_value(rng: &mut StdRng, scale: Scale) -> Value {
    match rng.random_range(0..12) {
        0 => json!(0),
        1 => json!(rng.random_range(1e-12..1e-8)),
        2 => json!(-rng.random_range(0.0..1e4)),
        3 => json!(rng.random_range(0..1_000_000i64)),
        _ => match scale {
            Scale::Share => json!(rng.random_range(0.0..=1.0)),
            Scale::Score => json!(rng.random_range(0.0..=100.0)),
            Scale::Log(cap) => json!(rng.random_range(0.0..cap * 2.0)),
        },
    }
}

/// Four scores and `{"A": {...}, ...}` with some domains and components missing.
fn dna_input(rng: &mut StdRng) -> (Vec<f64>, Value) {
    let scores = (0..4)
        .map(|_| match rng.random_range(0..8) {
            0 => 0.0,
            1 => rng.random_range(1e-12..1e-7),
            _ => rng.random_range(0.0..=100.0),
        })
        .collect();
    let mut components = Map::new();
    for d in DOMAINS {
        if rng.random_range(0..5) == 0 {
            continue;
        }
        let mut of_domain = Map::new();
        for dim in DIMENSIONS.iter().filter(|x| x.domain == d && x.component != "score") {
            if rng.random_range(0..6) > 0 {
                of_domain.insert(dim.component.to_string(), raw_value(rng, dim.scale));
            }
        }
        if d == "A" {
            of_domain.insert("main_genre".into(), json!("afrobeats"));
        }
        components.insert(d.to_string(), Value::Object(of_domain));
    }
    (scores, Value::Object(components))
}

fn weight(rng: &mut StdRng) -> Value {
    match rng.random_range(0..8) {
        0 => json!(0),
        1 => json!(1),
        2 => json!(rng.random_range(1e-12..1e-8)),
        _ => json!(rng.random_range(0.0..=1.0)),
    }
}

/// A canonical target's `domains` and `components`: a few domains, a few of their components.
fn target_input(rng: &mut StdRng) -> (Value, Value) {
    let mut domains = Map::new();
    let mut components = Map::new();
    for d in DOMAINS {
        let w = if rng.random_range(0..3) == 0 { json!(0) } else { weight(rng) };
        domains.insert(d.to_string(), w.clone());
        if w.as_f64() == Some(0.0) || rng.random_range(0..2) == 0 {
            continue;
        }
        let mut of_domain = Map::new();
        for dim in DIMENSIONS.iter().filter(|x| x.domain == d && x.component != "score") {
            if rng.random_range(0..3) == 0 {
                of_domain.insert(dim.component.to_string(), weight(rng));
            }
        }
        components.insert(d.to_string(), Value::Object(of_domain));
    }
    (Value::Object(domains), Value::Object(components))
}

type Matched = (Vec<f64>, Vec<f64>, f64, Value);

/// For each case: dna_vector, target_vector, their dna_similarity and dna_drivers(…, 5), in one statement.
async fn matched(client: &Client, scores: &[Vec<f64>], dna: &[Value], domains: &[Value], components: &[Value]) -> Vec<Matched> {
    let flat: Vec<f64> = scores.iter().flatten().copied().collect();
    let rows = client
        .query(
            "select m.v, m.t, coliseum.dna_similarity(m.t, m.v), coliseum.dna_drivers(m.t, m.v, 5)
               from unnest($2::jsonb[], $3::jsonb[], $4::jsonb[]) with ordinality as c(dna, domains, components, i)
               cross join lateral (
                 select coliseum.dna_vector(($1::float8[])[4 * c.i - 3 : 4 * c.i], c.dna) as v,
                        coliseum.target_vector(c.domains, c.components) as t offset 0) as m
              order by c.i",
            &[&flat, &dna, &domains, &components],
        )
        .await
        .expect("the matching functions run");
    rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect()
}

fn some(x: &[f64]) -> Vec<Option<f64>> {
    x.iter().copied().map(Some).collect()
}

/// Drivers as (domain, component, weight, value, contribution bits): JSON numbers compared as float8
/// (the extension writes 1 as `1.0`, Postgres' float8 as `1`; the same number).
fn driver_bits(d: &Value) -> Vec<(String, String, u64, u64, u64)> {
    let f = |x: &Value, k: &str| x[k].as_f64().unwrap_or_else(|| panic!("{k} is a number in {x}")).to_bits();
    d.as_array()
        .unwrap_or_else(|| panic!("drivers are an array: {d}"))
        .iter()
        .map(|x| {
            (
                x["domain"].to_string(),
                x["component"].to_string(),
                f(x, "weight"),
                f(x, "value"),
                f(x, "contribution"),
            )
        })
        .collect()
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[tokio::test]
async fn extension_and_sql_twins_match_identically() {
    let (main, twins) = extension_and_twins().await;
    let mut rng = seeded_rng("matching");
    let n = 4_000;
    let (mut scores, mut dna, mut domains, mut components) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let (s, c) = dna_input(&mut rng);
        let (d, t) = target_input(&mut rng);
        scores.push(s);
        dna.push(c);
        domains.push(d);
        components.push(t);
    }
    let from_extension = matched(&main, &scores, &dna, &domains, &components).await;
    let from_twins = matched(&twins, &scores, &dna, &domains, &components).await;
    let mut positive = 0;
    for i in 0..n {
        let ctx = format!(
            "scores {:?} components {} target {} {}",
            scores[i], dna[i], domains[i], components[i]
        );
        let v = dna_vector(&some(&scores[i]), &dna[i]).unwrap();
        let t = target_vector(&domains[i], &components[i]).unwrap();
        let s = similarity(&some(&t), &some(&v)).unwrap();
        let d: Value = drivers(&some(&t), &some(&v), 5).unwrap().iter().map(Driver::to_json).collect();
        let (ev, et, es, ed) = &from_extension[i];
        assert_eq!(bits(ev), bits(&v), "extension vs Rust, dna_vector: {ctx}");
        assert_eq!(bits(et), bits(&t), "extension vs Rust, target_vector: {ctx}");
        assert_eq!(es.to_bits(), s.to_bits(), "extension vs Rust, dna_similarity: {ctx}");
        assert_eq!(driver_bits(ed), driver_bits(&d), "extension vs Rust, dna_drivers: {ctx}");
        let (tv, tt, ts, td) = &from_twins[i];
        assert_eq!(bits(tv), bits(ev), "twins vs extension, dna_vector: {ctx}");
        assert_eq!(bits(tt), bits(et), "twins vs extension, target_vector: {ctx}");
        assert_eq!(ts.to_bits(), es.to_bits(), "twins vs extension, dna_similarity: {ctx}");
        assert_eq!(driver_bits(td), driver_bits(ed), "twins vs extension, dna_drivers: {ctx}");
        assert!((0.0..=1.0).contains(&s), "{ctx}: similarity {s}");
        positive += usize::from(s > 0.0);
    }
    assert!(positive > n / 2, "only {positive} of {n} cases have a positive similarity");
}

/// Raw vectors straight into dna_similarity and dna_drivers: zeros, ones, values around the flush limit.
#[tokio::test]
async fn extension_and_sql_twins_compare_raw_vectors_identically() {
    let (main, twins) = extension_and_twins().await;
    let mut rng = seeded_rng("matching-raw");
    let n = 3_000;
    let mut flat = Vec::with_capacity(2 * n * DNA_LEN);
    for _ in 0..2 * n {
        for _ in 0..DNA_LEN {
            flat.push(match rng.random_range(0..10) {
                0..=3 => 0.0,
                4 => 1.0,
                5 => [1e-9, 1e-9 * (1.0 - f64::EPSILON), 1e-300, 5e-324][rng.random_range(0..4)],
                _ => rng.random_range(0.0..=1.0),
            });
        }
    }
    let query = "select coliseum.dna_similarity(($1::float8[])[52 * i - 51 : 52 * i - 26], ($1::float8[])[52 * i - 25 : 52 * i]),
                        coliseum.dna_drivers(($1::float8[])[52 * i - 51 : 52 * i - 26], ($1::float8[])[52 * i - 25 : 52 * i], 26)
                   from generate_series(1, $2) as i order by i";
    let count = n as i32;
    let ext = main.query(query, &[&flat, &count]).await.expect("the extension runs");
    let sql = twins.query(query, &[&flat, &count]).await.expect("the twins run");
    for i in 0..n {
        let t = some(&flat[2 * i * DNA_LEN..(2 * i + 1) * DNA_LEN]);
        let v = some(&flat[(2 * i + 1) * DNA_LEN..(2 * i + 2) * DNA_LEN]);
        let s = similarity(&t, &v).unwrap();
        let d: Value = drivers(&t, &v, 26).unwrap().iter().map(Driver::to_json).collect();
        let ctx = format!("target {t:?} dna {v:?}");
        assert_eq!(ext[i].get::<_, f64>(0).to_bits(), s.to_bits(), "extension vs Rust: {ctx}");
        assert_eq!(sql[i].get::<_, f64>(0).to_bits(), s.to_bits(), "twins vs Rust: {ctx}");
        assert_eq!(
            driver_bits(&ext[i].get::<_, Value>(1)),
            driver_bits(&d),
            "extension drivers vs Rust: {ctx}"
        );
        assert_eq!(
            driver_bits(&sql[i].get::<_, Value>(1)),
            driver_bits(&d),
            "twins drivers vs Rust: {ctx}"
        );
    }
}

async fn error_of(client: &Client, sql: &str) -> (String, String) {
    let err = client.simple_query(sql).await.expect_err(sql);
    let db = err.as_db_error().unwrap_or_else(|| panic!("{sql}: {err}"));
    (db.code().code().to_string(), db.message().to_string())
}

fn array(x: &[Option<f64>]) -> String {
    let items: Vec<String> = x
        .iter()
        .map(|v| match v {
            None => "null".into(),
            Some(f) if f.is_nan() => "'NaN'".into(),
            Some(f) => format!("{f:e}"),
        })
        .collect();
    format!("array[{}]::float8[]", items.join(", "))
}

fn literal(v: &Value) -> String {
    format!("'{}'::jsonb", v.to_string().replace('\'', "''"))
}

/// Bad arguments, often wrong in several ways at once, so that the order of the checks matters too.
#[tokio::test]
async fn extension_and_sql_twins_refuse_identically() {
    let (main, twins) = extension_and_twins().await;
    let mut rng = seeded_rng("matching-errors");
    let keys = ["A", "T", "G", "C", "X", "a", "score", "zeal", "engagement", "loyalty", "cities"];
    let values = [
        json!(2),
        json!(-0.5),
        json!("1"),
        json!(null),
        json!([1]),
        json!({}),
        json!(0.5),
        json!(true),
    ];
    let mut cases = 0;
    while cases < 300 {
        let pick = |rng: &mut StdRng| -> Value {
            let mut m = Map::new();
            for _ in 0..rng.random_range(0..4) {
                let v = if rng.random_range(0..3) == 0 {
                    let mut inner = Map::new();
                    inner.insert(
                        keys[rng.random_range(0..keys.len())].to_string(),
                        values[rng.random_range(0..values.len())].clone(),
                    );
                    Value::Object(inner)
                } else {
                    values[rng.random_range(0..values.len())].clone()
                };
                m.insert(keys[rng.random_range(0..keys.len())].to_string(), v);
            }
            if rng.random_range(0..10) == 0 {
                json!([])
            } else {
                Value::Object(m)
            }
        };
        let (a, b) = (pick(&mut rng), pick(&mut rng));
        let vec_arg = |rng: &mut StdRng| -> Vec<Option<f64>> {
            let len = [26, 26, 26, 25, 0, 4][rng.random_range(0..6)];
            (0..len)
                .map(|_| match rng.random_range(0..12) {
                    0 => None,
                    1 => Some(1.5),
                    2 => Some(-1e-3),
                    3 => Some(f64::NAN),
                    _ => Some(rng.random_range(0.0..=1.0)),
                })
                .collect()
        };
        let (t, v) = (vec_arg(&mut rng), vec_arg(&mut rng));
        let n: i32 = rng.random_range(-2..4);
        let scores: Vec<Option<f64>> = vec_arg(&mut rng).into_iter().take(rng.random_range(3..6)).collect();
        let checks: Vec<(String, Result<(), String>)> = vec![
            (
                format!("select coliseum.target_vector({}, {})", literal(&a), literal(&b)),
                target_vector(&a, &b).map(|_| ()).map_err(|e| e.0),
            ),
            (
                format!("select coliseum.dna_vector({}, {})", array(&scores), literal(&b)),
                dna_vector(&scores, &b).map(|_| ()).map_err(|e| e.0),
            ),
            (
                format!("select coliseum.dna_similarity({}, {})", array(&t), array(&v)),
                similarity(&t, &v).map(|_| ()).map_err(|e| e.0),
            ),
            (
                format!("select coliseum.dna_drivers({}, {}, {n})", array(&t), array(&v)),
                drivers(&t, &v, n).map(|_| ()).map_err(|e| e.0),
            ),
        ];
        for (sql, rust) in checks {
            let Err(message) = rust else { continue };
            cases += 1;
            let want = ("22023".to_string(), message);
            assert_eq!(error_of(&main, &sql).await, want, "extension vs Rust: {sql}");
            assert_eq!(error_of(&twins, &sql).await, want, "twins vs Rust: {sql}");
        }
    }
}
