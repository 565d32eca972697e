//! Refund requests under real concurrency, on the main cluster (docs/treasury-refunds.md): callers
//! racing for one payment on separate connections are checked one after the other (the payment's row
//! lock), so together they never ask for more than the payment; the same idempotency key from many
//! callers makes one request; concurrent worker runs never claim the same request.

use buckets_e2e::{connect, paid_tip, MAIN_URL_VAR};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_postgres::Client;
use uuid::Uuid;

/// A recorded payment of 100.00 EUR; its id.
async fn payment(admin: &Client) -> String {
    paid_tip(admin, 10000, "refund_race").await.1
}

/// treasury_private.request_refund on its own connection, committed; the request id or the SQLSTATE.
async fn request(pi: String, amount: i64, key: String) -> Result<Uuid, String> {
    let client = connect(MAIN_URL_VAR).await;
    let answer = client
        .query_one("select treasury_private.request_refund($1, $2, 'race', $3)", &[&pi, &amount, &key])
        .await;
    answer
        .map(|row| row.get(0))
        .map_err(|e| e.code().map(|c| c.code().to_owned()).unwrap_or_else(|| e.to_string()))
}

#[tokio::test]
async fn callers_racing_for_one_payment_never_ask_for_more_than_it() {
    let admin = connect(MAIN_URL_VAR).await;
    let pi = payment(&admin).await;
    let runs: Vec<_> = (0..8)
        .map(|i| tokio::spawn(request(pi.clone(), 3000, format!("{pi}_race_{i}"))))
        .collect();
    let mut granted = 0;
    for run in runs {
        match run.await.expect("a caller panicked") {
            Ok(_) => granted += 1,
            Err(code) => assert_eq!(code, "55000", "a refused caller is told over_refund"),
        }
    }
    assert_eq!(granted, 3, "three requests of 30.00 fit in 100.00, a fourth does not");
    let total: i64 = admin
        .query_one(
            "select coalesce(sum(amount_minor), 0)::bigint from treasury.refund_requests where payment_id = $1",
            &[&pi],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 9000);
}

#[tokio::test]
async fn a_request_in_an_open_transaction_holds_the_next_one_until_it_commits() {
    let admin = connect(MAIN_URL_VAR).await;
    let pi = payment(&admin).await;
    let first = connect(MAIN_URL_VAR).await;
    first.batch_execute("begin").await.unwrap();
    first
        .query_one(
            "select treasury_private.request_refund($1, 6000::bigint, 'race', $1 || '_first')",
            &[&pi],
        )
        .await
        .expect("the first request");
    let second = tokio::spawn(request(pi.clone(), 6000, format!("{pi}_second")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second caller waits on the payment's row");
    first.batch_execute("commit").await.unwrap();
    assert_eq!(second.await.unwrap(), Err("55000".to_owned()), "then sees the first request");
}

#[tokio::test]
async fn one_key_from_many_callers_makes_one_request() {
    let admin = connect(MAIN_URL_VAR).await;
    let pi = payment(&admin).await;
    let runs: Vec<_> = (0..8)
        .map(|_| tokio::spawn(request(pi.clone(), 2500, format!("{pi}_same"))))
        .collect();
    let mut ids = BTreeSet::new();
    for run in runs {
        ids.insert(run.await.expect("a caller panicked").expect("every caller is answered"));
    }
    assert_eq!(ids.len(), 1, "every caller gets the same request: {ids:?}");
}

#[tokio::test]
async fn concurrent_worker_runs_never_claim_the_same_request() {
    let admin = connect(MAIN_URL_VAR).await;
    let mut ours = BTreeSet::new();
    for _ in 0..4 {
        let pi = payment(&admin).await;
        for i in 0..2 {
            ours.insert(request(pi.clone(), 1000, format!("{pi}_claim_{i}")).await.expect("request"));
        }
    }
    let runs: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(async move {
                let client = connect(MAIN_URL_VAR).await;
                client
                    .batch_execute(
                        "begin; select set_config('role', 'service_role', true), \
                         set_config('request.jwt.claims', '{\"role\": \"service_role\"}', true)",
                    )
                    .await
                    .unwrap();
                let batch: Value = client
                    .query_one("select treasury.claim_refund_work(1000, 300)", &[])
                    .await
                    .expect("claim_refund_work")
                    .get(0);
                client.batch_execute("commit").await.unwrap();
                batch
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|r| r["id"].as_str()?.parse::<Uuid>().ok())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for run in runs {
        for id in run.await.expect("a run panicked") {
            if ours.contains(&id) {
                assert!(seen.insert(id), "request {id} was claimed by two runs");
            }
        }
    }
    assert_eq!(seen, ours, "every request of ours was claimed, once");
}
