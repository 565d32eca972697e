//! The Treasury split engine: pg_coliseum (main cluster), its SQL twins
//! (the hosted-shape cluster) and `buckets_core::treasury` must give the same lines for
//! every split and refund, and refuse the same arguments with the same
//! SQLSTATE and message. There is no tolerance: these are integers.
//!
//! Inputs come from a seeded generator; a failure prints the seed, and
//! `BUCKETS_SEED=<n>` replays it.

use buckets_core::treasury::{allocate_refund, allocate_split, SplitError};
use buckets_e2e::{extension_and_twins, seeded_rng};
use rand::rngs::StdRng;
use rand::Rng;
use tokio_postgres::Client;

/// Shares that sum to 10 000: the rules products use, random partitions of a
/// few parties (some with a zero share), and rules with many parties, where
/// the leftover can exceed 16 units and the twin places it by bisection.
fn valid_shares(rng: &mut StdRng) -> Vec<Option<i32>> {
    let common: [&[i32]; 6] = [
        &[10_000],
        &[7000, 2000, 1000],
        &[8500, 1500],
        &[3333, 3333, 3334],
        &[5000, 5000],
        &[2500, 2500, 2500, 2500],
    ];
    let parties = match rng.random_range(0..10) {
        0..=1 => return common[rng.random_range(0..common.len())].iter().map(|&s| Some(s)).collect(),
        2 => rng.random_range(17..300),
        _ => rng.random_range(1..=6),
    };
    let mut cuts: Vec<i32> = (1..parties).map(|_| rng.random_range(0..=10_000)).collect();
    cuts.sort_unstable();
    cuts.insert(0, 0);
    cuts.push(10_000);
    cuts.windows(2).map(|w| Some(w[1] - w[0])).collect()
}

fn amount(rng: &mut StdRng) -> i64 {
    match rng.random_range(0..10) {
        0 => [0, 1, 9_999, 10_000, 10_001, i64::MAX, i64::MAX - 1, i64::MAX / 10_000 * 10_000][rng.random_range(0..8)],
        1 => rng.random_range(0..=i64::MAX),
        2 => rng.random_range(0..20),
        3..=5 => rng.random_range(0..10_000),
        _ => rng.random_range(0..100_000_000),
    }
}

/// The shares of many cases in one flat array, and each case's slice bounds.
fn flatten(cases: &[&[Option<i32>]]) -> (Vec<Option<i32>>, Vec<i32>, Vec<i32>) {
    let mut flat = Vec::new();
    let (mut lo, mut hi) = (Vec::new(), Vec::new());
    for shares in cases {
        lo.push(flat.len() as i32 + 1);
        flat.extend_from_slice(shares);
        hi.push(flat.len() as i32);
    }
    (flat, lo, hi)
}

async fn splits(client: &Client, amounts: &[i64], shares: &[&[Option<i32>]]) -> Vec<Vec<i64>> {
    let (flat, lo, hi) = flatten(shares);
    let rows = client
        .query(
            "select coliseum.allocate_split(c.amount, ($2::int4[])[c.lo:c.hi])
               from unnest($1::int8[], $3::int4[], $4::int4[]) with ordinality as c(amount, lo, hi, i)
              order by c.i",
            &[&amounts, &flat, &lo, &hi],
        )
        .await
        .unwrap_or_else(|e| panic!("coliseum.allocate_split fails where Rust does not: {e}"));
    rows.iter().map(|r| r.get(0)).collect()
}

async fn refunds(client: &Client, amounts: &[i64], shares: &[&[Option<i32>]], before: &[i64], total: &[i64]) -> Vec<Vec<i64>> {
    let (flat, lo, hi) = flatten(shares);
    let rows = client
        .query(
            "select coliseum.allocate_refund(c.amount, ($2::int4[])[c.lo:c.hi], c.before, c.total)
               from unnest($1::int8[], $3::int4[], $4::int4[], $5::int8[], $6::int8[]) with ordinality as c(amount, lo, hi, before, total, i)
              order by c.i",
            &[&amounts, &flat, &lo, &hi, &before, &total],
        )
        .await
        .unwrap_or_else(|e| panic!("coliseum.allocate_refund fails where Rust does not: {e}"));
    rows.iter().map(|r| r.get(0)).collect()
}

/// How many units of a split went to remainders: amount − Σ floor(amount × bp / 10000).
fn leftover(amount: i64, shares: &[Option<i32>]) -> i64 {
    let floors: i128 = shares.iter().map(|s| i128::from(amount) * i128::from(s.unwrap()) / 10_000).sum();
    (i128::from(amount) - floors) as i64
}

#[tokio::test]
async fn extension_and_sql_twins_split_identically() {
    let (main, twins) = extension_and_twins().await;
    let mut rng = seeded_rng("splits");
    let n = 20_000;
    let shares: Vec<Vec<Option<i32>>> = (0..n).map(|_| valid_shares(&mut rng)).collect();
    let amounts: Vec<i64> = (0..n).map(|_| amount(&mut rng)).collect();
    let views: Vec<&[Option<i32>]> = shares.iter().map(|s| s.as_slice()).collect();
    let from_extension = splits(&main, &amounts, &views).await;
    let from_twins = splits(&twins, &amounts, &views).await;
    let mut bisected = 0;
    for i in 0..n {
        let rust = allocate_split(amounts[i], &shares[i]).expect("valid shares");
        let ctx = format!("allocate_split({}, {:?})", amounts[i], shares[i]);
        assert_eq!(from_extension[i], rust, "extension vs Rust: {ctx}");
        assert_eq!(from_twins[i], rust, "twins vs Rust: {ctx}");
        bisected += (leftover(amounts[i], &shares[i]) > 16) as usize;
    }
    // The twin's two ways of placing the leftover must both be exercised.
    assert!(bisected > 200, "only {bisected} cases with a leftover above 16 units");
}

#[tokio::test]
async fn extension_and_sql_twins_reverse_refunds_identically() {
    let (main, twins) = extension_and_twins().await;
    let mut rng = seeded_rng("refunds");
    // Each payment is refunded in 1 to 4 steps; the last one sometimes refunds it all.
    let (mut amounts, mut shares, mut before, mut total, mut payment) = (vec![], vec![], vec![], vec![], vec![]);
    let payments = 4_000;
    let (mut payment_amounts, mut payment_shares, mut refunded) = (vec![], vec![], vec![]);
    for p in 0..payments {
        let a = amount(&mut rng);
        let s = valid_shares(&mut rng);
        let steps = rng.random_range(1..=4);
        let mut so_far = 0;
        for step in 0..steps {
            let next = if step == steps - 1 && rng.random_bool(0.6) {
                a
            } else {
                // A random part of what is left, in 0..a - so_far.
                so_far + ((u128::from((a - so_far) as u64) * u128::from(rng.random::<u64>())) >> 64) as i64
            };
            amounts.push(a);
            shares.push(s.clone());
            before.push(so_far);
            total.push(next);
            payment.push(p);
            so_far = next;
        }
        payment_amounts.push(a);
        payment_shares.push(s);
        refunded.push(so_far);
    }
    let views: Vec<&[Option<i32>]> = shares.iter().map(|s| s.as_slice()).collect();
    let from_extension = refunds(&main, &amounts, &views, &before, &total).await;
    let from_twins = refunds(&twins, &amounts, &views, &before, &total).await;
    for i in 0..amounts.len() {
        let rust = allocate_refund(amounts[i], &shares[i], before[i], total[i]).expect("valid refund");
        let ctx = format!("allocate_refund({}, {:?}, {}, {})", amounts[i], shares[i], before[i], total[i]);
        assert_eq!(from_extension[i], rust, "extension vs Rust: {ctx}");
        assert_eq!(from_twins[i], rust, "twins vs Rust: {ctx}");
    }

    // What each database reversed, step by step, from what it split: after every step each
    // party holds the database's split of what is left of the payment (never below zero, a
    // line is never below -1), and a fully refunded payment leaves every party at exactly zero.
    let share_views: Vec<&[Option<i32>]> = payment_shares.iter().map(|s| s.as_slice()).collect();
    let left: Vec<i64> = amounts.iter().zip(&total).map(|(a, t)| a - t).collect();
    for (name, client, reversed) in [("extension", &main, &from_extension), ("twins", &twins, &from_twins)] {
        let paid = splits(client, &payment_amounts, &share_views).await;
        let holds = splits(client, &left, &views).await;
        let mut held: Vec<Vec<i128>> = paid.iter().map(|l| l.iter().map(|&x| i128::from(x)).collect()).collect();
        for (i, lines) in reversed.iter().enumerate() {
            let p = payment[i];
            let ctx = format!(
                "{name}: payment {p}, allocate_refund({}, {:?}, {}, {})",
                amounts[i], shares[i], before[i], total[i]
            );
            assert!(lines.iter().all(|&l| l >= -1), "{ctx}: lines {lines:?}");
            for (h, l) in held[p].iter_mut().zip(lines) {
                *h -= i128::from(*l);
            }
            assert!(held[p].iter().all(|&h| h >= 0), "{ctx}: holds {:?}", held[p]);
            let expected: Vec<i128> = holds[i].iter().map(|&x| i128::from(x)).collect();
            assert_eq!(held[p], expected, "{ctx}: holds the split of {} left", left[i]);
        }
        for p in 0..payments {
            if refunded[p] == payment_amounts[p] {
                assert!(
                    held[p].iter().all(|&h| h == 0),
                    "{name}: payment {p}: {:?} after a full refund",
                    held[p]
                );
            }
        }
    }
    let full = (0..payments).filter(|&p| refunded[p] == payment_amounts[p]).count();
    assert!(full > payments / 2, "only {full} of {payments} payments fully refunded");
}

/// An argument list that is wrong in one or more ways, so that the order of
/// the checks matters too.
fn invalid_case(rng: &mut StdRng) -> (i64, Vec<Option<i32>>, i64, i64) {
    let mut a = amount(&mut *rng) % 1_000_000;
    let mut shares = valid_shares(rng);
    let (mut before, mut total) = (a / 3, a / 2);
    for _ in 0..rng.random_range(1..=3) {
        match rng.random_range(0..9) {
            0 => a = -rng.random_range(1..=i64::MAX),
            1 => shares.clear(),
            2 => {
                let i = rng.random_range(0..=shares.len());
                shares.insert(i, None);
            }
            3 => {
                let i = rng.random_range(0..=shares.len());
                shares.insert(i, Some([-1, 10_001, i32::MIN, i32::MAX][rng.random_range(0..4)]));
            }
            4 => {
                if let Some(s) = shares.iter_mut().flatten().next() {
                    *s = s.saturating_add([1, -1][rng.random_range(0..2)]);
                }
            }
            5 => shares.push(Some(rng.random_range(1..=10_000))),
            6 => before = -rng.random_range(1..=i64::MAX),
            7 => total = before.saturating_sub(rng.random_range(1..=1000)),
            _ => total = a.saturating_add(rng.random_range(1..=1000)),
        }
    }
    (a, shares, before, total)
}

async fn refusal(client: &Client, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Option<(String, String)> {
    match client.query_one(sql, params).await {
        Ok(_) => None,
        Err(e) => {
            let db = e.as_db_error().unwrap_or_else(|| panic!("{sql}: not a database error: {e}"));
            Some((db.code().code().to_string(), db.message().to_string()))
        }
    }
}

fn expected(result: Result<Vec<i64>, SplitError>) -> Option<(String, String)> {
    result.err().map(|e| (e.sqlstate().to_string(), e.to_string()))
}

#[tokio::test]
async fn both_implementations_refuse_bad_arguments_alike() {
    let (main, twins) = extension_and_twins().await;
    let mut rng = seeded_rng("split_errors");
    let mut refused = 0;
    for _ in 0..600 {
        let (a, shares, before, total) = invalid_case(&mut rng);
        let split_sql = "select coliseum.allocate_split($1, $2::int4[])";
        let refund_sql = "select coliseum.allocate_refund($1, $2::int4[], $3, $4)";
        let rust_split = expected(allocate_split(a, &shares));
        let rust_refund = expected(allocate_refund(a, &shares, before, total));
        refused += rust_split.is_some() as usize + rust_refund.is_some() as usize;
        for (name, client) in [("extension", &main), ("twins", &twins)] {
            let ctx = format!("{name}: amount {a} shares {shares:?} before {before} total {total}");
            assert_eq!(
                refusal(client, split_sql, &[&a, &shares]).await,
                rust_split,
                "allocate_split, {ctx}"
            );
            assert_eq!(
                refusal(client, refund_sql, &[&a, &shares, &before, &total]).await,
                rust_refund,
                "allocate_refund, {ctx}"
            );
        }
    }
    assert!(refused > 900, "only {refused} of 1200 calls refused");
}

#[tokio::test]
async fn both_implementations_have_the_same_signatures() {
    let (main, twins) = extension_and_twins().await;
    let sql = "select p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
                      p.provolatile::text, p.proisstrict, p.proparallel::text
                 from pg_proc p
                where p.pronamespace = 'coliseum'::regnamespace and p.proname in ('allocate_split', 'allocate_refund')
                order by p.proname";
    let describe = |rows: Vec<tokio_postgres::Row>| -> Vec<String> {
        rows.iter()
            .map(|r| {
                let (name, args, result): (String, String, String) = (r.get(0), r.get(1), r.get(2));
                let (volatility, strict, parallel): (String, bool, String) = (r.get(3), r.get(4), r.get(5));
                format!("{name}({args}) returns {result} {volatility} strict={strict} parallel={parallel}")
            })
            .collect()
    };
    let on_main = describe(main.query(sql, &[]).await.unwrap());
    let on_twins = describe(twins.query(sql, &[]).await.unwrap());
    assert_eq!(
        on_main,
        vec![
            "allocate_refund(amount bigint, shares_bp integer[], refunded_before bigint, refunded_total bigint) returns bigint[] i strict=true parallel=s",
            "allocate_split(amount bigint, shares_bp integer[]) returns bigint[] i strict=true parallel=s",
        ]
    );
    assert_eq!(on_twins, on_main);
    for client in [&main, &twins] {
        let row = client
            .query_one(
                "select coliseum.allocate_split(null, '{10000}') is null, coliseum.allocate_refund(1, null, 0, 1) is null",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            (row.get::<_, bool>(0), row.get::<_, bool>(1)),
            (true, true),
            "strict: NULL in, NULL out"
        );
    }
}
