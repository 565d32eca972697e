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

/// The refund worker records every answer of its run in one statement, locking each request's
/// payment in its own order, while a batch of the Stripe event applier locks payments in Stripe's
/// event order. The worker queues behind the running batch before it locks anything, so the batch
/// goes on to the payment the worker would otherwise hold, and both finish: no deadlock
/// (treasury_private.queue_behind_batches).
#[tokio::test]
async fn the_worker_recording_answers_queues_behind_a_running_batch_instead_of_deadlocking_with_it() {
    let admin = connect(MAIN_URL_VAR).await;
    let mut requests = Vec::new();
    for _ in 0..2 {
        let pi = payment(&admin).await;
        let id: Uuid = admin
            .query_one(
                "select treasury_private.request_refund($1, 1000::bigint, 'race', $1 || '_batch')",
                &[&pi],
            )
            .await
            .expect("a refund request")
            .get(0);
        let payment_id: String = admin
            .query_one("select payment_id from treasury.refund_requests where id = $1", &[&id])
            .await
            .unwrap()
            .get(0);
        requests.push((id, payment_id));
    }
    let [(first, first_payment), (second, second_payment)] = &requests[..] else {
        unreachable!()
    };
    let (first, second) = (*first, *second);

    // A batch of the applier: its lock, then the first payment, as while applying that payment's event.
    let batch = connect(MAIN_URL_VAR).await;
    batch.batch_execute("begin").await.unwrap();
    batch
        .execute("select pg_advisory_xact_lock(treasury_private.batch_lock())", &[])
        .await
        .unwrap();
    batch
        .execute("select 1 from treasury.payments where id = $1 for update", &[&first_payment])
        .await
        .unwrap();

    // The worker records both answers in one statement, the second payment's first.
    let worker = connect(MAIN_URL_VAR).await;
    let record = tokio::spawn(async move {
        worker
            .query_one(
                "select treasury.record_refund_sent($1::uuid, 're_race_' || replace($1::uuid::text, '-', ''), 'pending') ->> 'state', \
                        treasury.record_refund_sent($2::uuid, 're_race_' || replace($2::uuid::text, '-', ''), 'pending') ->> 'state'",
                &[&second, &first],
            )
            .await
            .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
            .map_err(|e| e.code().map(|c| c.code().to_owned()).unwrap_or_else(|| e.to_string()))
    });
    let mut waiting = false;
    for _ in 0..500 {
        let waits: i64 = admin
            .query_one(
                "select count(*) from pg_stat_activity \
                 where wait_event_type = 'Lock' and query like '%record_refund_sent($1::uuid, ''re_race_''%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waits == 1 {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen: Vec<String> = admin
        .query(
            "select coalesce(wait_event_type, '-') || ' ' || left(query, 60) from pg_stat_activity where query like '%refund%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !waiting && record.is_finished() {
        panic!("the worker did not wait: {:?}", record.await);
    }
    assert!(waiting, "the worker's statement waits for the running batch: {seen:?}");

    // The batch goes on to the second payment: the worker holds none of it.
    let locked = batch
        .execute("select 1 from treasury.payments where id = $1 for update", &[&second_payment])
        .await;
    assert!(locked.is_ok(), "the batch takes the second payment: {locked:?}");
    batch.batch_execute("commit").await.unwrap();
    assert_eq!(
        record.await.expect("the worker's task"),
        Ok(("sent".to_owned(), "sent".to_owned())),
        "then the worker records both answers"
    );
}
