//! The payout worker's claim under real concurrency, on the main cluster: runs of
//! `treasury.claim_payout_work` on separate connections never get the same attempt (row locks
//! skipped while a run's claim is uncommitted, then its lease), so no two runs make a payout's
//! Stripe calls at the same time; a run that crashed before recording anything gives its attempts
//! back when the lease ends, with the same request and idempotency keys, so the repeat is one
//! Stripe answers once.

use buckets_e2e::{connect, paid_tip, MAIN_URL_VAR};
use serde_json::Value;
use std::collections::BTreeMap;
use tokio_postgres::Client;
use uuid::Uuid;

/// A connection acting as the service role (the worker), inside an open transaction.
async fn worker() -> Client {
    let client = connect(MAIN_URL_VAR).await;
    client
        .batch_execute(
            "begin; select set_config('role', 'service_role', true), \
             set_config('request.jwt.claims', '{\"role\": \"service_role\"}', true)",
        )
        .await
        .expect("acting as the service role");
    client
}

/// One worker run's claim at `at_offset_s` seconds from now (uncommitted: the caller commits).
async fn claim(client: &Client, at_offset_s: f64) -> Value {
    client
        .query_one(
            "select treasury.claim_payout_work(1000, 300, now() + make_interval(secs => $1))",
            &[&at_offset_s],
        )
        .await
        .expect("claim_payout_work")
        .get(0)
}

/// The payouts of `ours` among a batch's attempts, with their idempotency keys.
fn claimed_of(batch: &Value, ours: &[Uuid]) -> BTreeMap<Uuid, String> {
    batch["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter_map(|a| {
            let payout: Uuid = a["payout_id"].as_str()?.parse().ok()?;
            ours.contains(&payout)
                .then(|| (payout, a["request"]["idempotency_key"].as_str().unwrap_or_default().to_owned()))
        })
        .collect()
}

/// A payee with 1,000.00 EUR earned, a verified wallet, and `n` payouts of 10.00 EUR sent by the
/// queue (each with an open attempt 1).
async fn payouts_in_processing(admin: &Client, n: usize) -> Vec<Uuid> {
    let (artist, _) = paid_tip(admin, 100000, "race").await;
    let account = format!("acct_race{}", &artist.simple().to_string()[..16]);
    admin
        .execute(
            "select treasury.link_stripe_account($1, $2), treasury.set_wallet_verification($1, true, 'race')",
            &[&artist, &account],
        )
        .await
        .expect("verified wallet");
    let mut payouts = Vec::with_capacity(n);
    for i in 0..n {
        let row = admin
            .query_one(
                "with me as (select set_config('request.jwt.claims', json_build_object('sub', $1::text, 'role', 'authenticated')::text, false)) \
                 select p.id from me, treasury.request_payout(1000, 'EUR', 'race-' || $2::text) as p",
                &[&artist.to_string(), &(i as i32).to_string()],
            )
            .await
            .expect("request_payout");
        payouts.push(row.get(0));
    }
    admin
        .execute("select set_config('request.jwt.claims', '', false)", &[])
        .await
        .unwrap();
    // The queue sends them: this call, or the every-minute pg_cron job `treasury-process-payouts`
    // when it ran in between (so the call's own count says nothing about ours: their states do).
    admin
        .query_one("select treasury.process_payouts(now(), 10000)", &[])
        .await
        .expect("process_payouts");
    let processing: i64 = admin
        .query_one(
            "select count(*) from treasury.payouts where id = any($1) and state = 'processing'",
            &[&payouts],
        )
        .await
        .expect("payout states")
        .get(0);
    assert_eq!(processing, n as i64, "every payout of ours is sent by the queue");
    payouts
}

#[tokio::test]
async fn concurrent_worker_runs_never_work_on_the_same_attempt() {
    let admin = connect(MAIN_URL_VAR).await;
    let ours = payouts_in_processing(&admin, 10).await;

    // Run A has claimed and not committed yet: run B skips A's locked rows.
    let (a, b) = (worker().await, worker().await);
    let batch_a = claimed_of(&claim(&a, 0.0).await, &ours);
    let batch_b = claimed_of(&claim(&b, 0.0).await, &ours);
    assert_eq!(batch_a.len(), ours.len(), "run A claims every open attempt of ours");
    assert!(batch_b.is_empty(), "run B gets none of the rows A holds: {batch_b:?}");
    a.batch_execute("commit").await.unwrap();
    b.batch_execute("commit").await.unwrap();

    // Committed, A's lease keeps every later run off them: eight runs at once get nothing.
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let ours = ours.clone();
            tokio::spawn(async move {
                let client = worker().await;
                let got = claimed_of(&claim(&client, 10.0).await, &ours);
                client.batch_execute("commit").await.unwrap();
                got
            })
        })
        .collect();
    for run in runs {
        let got = run.await.expect("a run panicked");
        assert!(got.is_empty(), "a run during A's lease got {got:?}");
    }

    // A crashed after Stripe answered some of its transfers and before recording any. Once its
    // lease ends, eight runs race: each attempt goes to exactly one, with the same keys as before.
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let ours = ours.clone();
            tokio::spawn(async move {
                let client = worker().await;
                let got = claimed_of(&claim(&client, 301.0).await, &ours);
                client.batch_execute("commit").await.unwrap();
                got
            })
        })
        .collect();
    let mut seen: BTreeMap<Uuid, String> = BTreeMap::new();
    for run in runs {
        for (payout, key) in run.await.expect("a run panicked") {
            assert!(
                seen.insert(payout, key).is_none(),
                "payout {payout} was claimed by two runs at once"
            );
        }
    }
    assert_eq!(
        seen, batch_a,
        "after the lease every attempt is claimed again, once, with the same idempotency key"
    );

    let runs: Vec<i32> = admin
        .query(
            "select worker_runs from treasury.payout_attempts where payout_id = any($1) order by payout_id",
            &[&ours],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        runs,
        vec![2; ours.len()],
        "each attempt was claimed by A and by one run after the crash"
    );
}
