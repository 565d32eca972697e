//! payout-worker through the host protocol: the claim, the Stripe calls with
//! their exact parameters and idempotency keys, the record, the summary; a
//! refusal, no answer, and a crash between Stripe's answer and our commit.

use super::*;
use crate::auth::tests::service_key;
use crate::tests::{answered, calls_of, drive, ok_body, only_the_service_role_runs, post_head, stripe_env};

const A: &str = "11111111-1111-4111-8111-111111111111";
const B: &str = "22222222-2222-4222-8222-222222222222";
const C: &str = "33333333-3333-4333-8333-333333333333";

fn head(token: Option<&str>) -> Value {
    post_head("payout-worker", token, "7a7a7a7a-0000-4000-8000-000000000001")
}

fn metadata(payout: &str, attempt: i64) -> Value {
    json!({ "payout_id": payout, "payout_attempt": attempt.to_string(), "wallet_id": "BKT-7K3M-Q9XZ-4" })
}

/// Attempt 1 of payout A, to be transferred and paid out, as the queue writes it.
fn transfer_attempt(payout: &str, amount: i64, currency: &str) -> Value {
    let key = format!("buckets_payout_{payout}_1");
    json!({ "payout_id": payout, "attempt": 1, "operation": "transfer", "stripe_account_id": "acct_payee",
            "transfer_id": null, "worker_runs": 1,
            "request": { "idempotency_key": key,
                         "transfer": { "idempotency_key": format!("{key}_transfer"), "amount": amount, "currency": currency,
                                       "destination": "acct_payee", "transfer_group": format!("payout_{payout}"),
                                       "metadata": metadata(payout, 1) },
                         "standing_transfer": null,
                         "payout": { "idempotency_key": format!("{key}_payout"), "stripe_account": "acct_payee",
                                     "amount": amount, "currency": currency, "metadata": metadata(payout, 1) } } })
}

/// Attempt 2 of payout B: only the payout of the transfer attempt 1 left standing.
fn payout_attempt() -> Value {
    let key = format!("buckets_payout_{B}_2");
    json!({ "payout_id": B, "attempt": 2, "operation": "payout", "stripe_account_id": "acct_payee",
            "transfer_id": "tr_standing", "worker_runs": 1,
            "request": { "idempotency_key": key, "transfer": null, "standing_transfer": "tr_standing",
                         "payout": { "idempotency_key": format!("{key}_payout"), "stripe_account": "acct_payee",
                                     "amount": 4000, "currency": "eur", "metadata": metadata(B, 2) } } })
}

fn reversal() -> Value {
    json!({ "payout_id": C, "attempt": 1, "transfer_id": "tr_of_c", "amount": 3000, "currency": "eur",
            "idempotency_key": format!("buckets_payout_{C}_reversal"),
            "metadata": { "payout_id": C, "payout_attempt": "1" } })
}

fn work(attempts: Vec<Value>, reversals: Vec<Value>) -> Value {
    json!([{ "work": { "attempts": attempts, "reversals": reversals } }])
}

/// The id Stripe gives the object it makes under an idempotency key: the
/// same key, the same object.
fn made(prefix: &str, key: &str) -> String {
    format!("{prefix}_{}", key.replace('-', ""))
}

/// Stripe as the stand-in answers.
fn stripe(call: &Value) -> Value {
    let key = call["headers"]["idempotency-key"].as_str().unwrap();
    let url = call["url"].as_str().unwrap();
    let object = if url.ends_with("/reversals") {
        json!({ "id": made("trr", key), "object": "transfer_reversal" })
    } else if url.ends_with("/v1/transfers") {
        json!({ "id": made("tr", key), "object": "transfer" })
    } else {
        json!({ "id": made("po", key), "object": "payout" })
    };
    answered(200, &object)
}

fn tr(payout: &str, attempt: i64) -> String {
    made("tr", &format!("buckets_payout_{payout}_{attempt}_transfer"))
}

fn po(payout: &str, attempt: i64) -> String {
    made("po", &format!("buckets_payout_{payout}_{attempt}_payout"))
}

/// Runs the worker as the host would, with `claim` as the claim's rows,
/// `answer` for each Stripe call and `record` for the record query.
fn run(claim: &Value, answer: impl FnMut(&Value) -> Value, record: Result<Value, Value>) -> (Value, Vec<Value>) {
    let db = |step: &Value| match step["state"]["step"].as_str() {
        Some("claim") => Ok(claim.clone()),
        _ => record.clone(),
    };
    drive("payout-worker", &head(Some(&service_key())), b"{}", &stripe_env(), db, answer)
}

#[test]
fn only_the_service_role_runs_the_worker() {
    only_the_service_role_runs("payout-worker", head, &stripe_env(), "STRIPE_SECRET_KEY");
}

#[test]
fn a_run_transfers_then_pays_out_reverses_and_records_it_all() {
    let claim = work(vec![transfer_attempt(A, 5000, "eur"), payout_attempt()], vec![reversal()]);
    let (answer, steps) = run(&claim, stripe, Ok(json!([{ "recorded": 5 }])));
    assert_eq!(
        ok_body(&answer),
        json!({ "claimed": 2, "transferred": 1, "paid_out": 2, "failed": 0, "reversed": 1, "deferred": 0 })
    );
    assert_eq!(steps.len(), 4, "claim, transfers and reversals, payouts, record");

    assert_eq!(steps[0]["query"]["sql"], CLAIM_SQL);
    assert_eq!(steps[0]["query"]["params"], json!([20, 300]));
    assert_eq!(steps[0]["query"]["role"], "service_role");

    let first = calls_of(&steps[1]);
    assert_eq!(first.len(), 2, "A's transfer (B's stands) and C's reversal, in one round");
    assert_eq!(first[0]["url"], "http://127.0.0.1:54340/v1/transfers");
    assert_eq!(
        first[0]["form"],
        json!({ "amount": "5000", "currency": "eur", "destination": "acct_payee", "transfer_group": format!("payout_{A}"),
                "metadata[payout_id]": A, "metadata[payout_attempt]": "1", "metadata[wallet_id]": "BKT-7K3M-Q9XZ-4" })
    );
    assert_eq!(first[0]["headers"]["idempotency-key"], format!("buckets_payout_{A}_1_transfer"));
    assert_eq!(first[0]["headers"]["stripe-version"], stripe_api::STRIPE_VERSION);
    assert!(
        first[0]["headers"].get("stripe-account").is_none(),
        "a transfer is made by the platform"
    );
    assert_eq!(first[1]["url"], "http://127.0.0.1:54340/v1/transfers/tr_of_c/reversals");
    assert_eq!(
        first[1]["form"],
        json!({ "metadata[payout_id]": C, "metadata[payout_attempt]": "1" })
    );
    assert_eq!(first[1]["headers"]["idempotency-key"], format!("buckets_payout_{C}_reversal"));

    let second = calls_of(&steps[2]);
    assert_eq!(second.len(), 2);
    assert_eq!(second[0]["url"], "http://127.0.0.1:54340/v1/payouts");
    assert_eq!(
        second[0]["form"],
        json!({ "amount": "5000", "currency": "eur", "metadata[payout_id]": A, "metadata[payout_attempt]": "1",
                "metadata[wallet_id]": "BKT-7K3M-Q9XZ-4" })
    );
    assert_eq!(second[0]["headers"]["stripe-account"], "acct_payee");
    assert_eq!(second[0]["headers"]["idempotency-key"], format!("buckets_payout_{A}_1_payout"));
    assert_eq!(second[1]["headers"]["idempotency-key"], format!("buckets_payout_{B}_2_payout"));
    assert_eq!(second[1]["form"]["amount"], "4000");

    assert_eq!(steps[3]["query"]["sql"], RECORD_SQL);
    assert_eq!(steps[3]["query"]["role"], "service_role");
    assert_eq!(
        steps[3]["query"]["params"][0],
        json!([
            { "kind": "step", "payout_id": A, "attempt": 1, "currency": "eur", "step": "transfer", "stripe_id": tr(A, 1) },
            { "kind": "step", "payout_id": A, "attempt": 1, "currency": "eur", "step": "payout", "stripe_id": po(A, 1) },
            { "kind": "step", "payout_id": B, "attempt": 2, "currency": "eur", "step": "payout", "stripe_id": po(B, 2) },
            { "kind": "reversal", "payout_id": C, "attempt": 1, "currency": "eur", "reversal_id": made("trr", &format!("buckets_payout_{C}_reversal")) },
        ])
    );
}

#[test]
fn the_record_takes_the_currencies_in_order() {
    let claim = work(
        vec![
            transfer_attempt(B, 5000, "usd"),
            transfer_attempt(A, 900, "jpy"),
            transfer_attempt(C, 5000, "eur"),
        ],
        vec![],
    );
    let (_, steps) = run(&claim, stripe, Ok(json!([{ "recorded": 6 }])));
    let order: Vec<(String, String)> = steps[3]["query"]["params"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["currency"].as_str().unwrap().to_owned(), l["step"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("eur", "transfer"),
        ("eur", "payout"),
        ("jpy", "transfer"),
        ("jpy", "payout"),
        ("usd", "transfer"),
        ("usd", "payout"),
    ];
    assert_eq!(order, expected.map(|(c, s)| (c.to_owned(), s.to_owned())));
}

#[test]
fn a_refusal_fails_the_attempt_with_the_transfer_it_made() {
    let claim = work(vec![transfer_attempt(A, 5000, "eur"), transfer_attempt(B, 4000, "eur")], vec![]);
    let refusal = |code: &str| {
        answered(
            400,
            &json!({ "error": { "type": "invalid_request_error", "code": code, "message": format!("Stripe says {code}") } }),
        )
    };
    let (answer, steps) = run(
        &claim,
        |call| {
            let key = call["headers"]["idempotency-key"].as_str().unwrap();
            if key == format!("buckets_payout_{A}_1_payout") {
                refusal("balance_insufficient")
            } else if key == format!("buckets_payout_{B}_1_transfer") {
                refusal("account_invalid")
            } else {
                stripe(call)
            }
        },
        Ok(json!([{ "recorded": 3 }])),
    );
    assert_eq!(
        ok_body(&answer),
        json!({ "claimed": 2, "transferred": 1, "paid_out": 0, "failed": 2, "reversed": 0, "deferred": 0 })
    );
    assert_eq!(calls_of(&steps[2]).len(), 1, "no payout for B, whose transfer was refused");
    assert_eq!(
        steps[3]["query"]["params"][0],
        json!([
            { "kind": "step", "payout_id": A, "attempt": 1, "currency": "eur", "step": "transfer", "stripe_id": tr(A, 1) },
            { "kind": "fail", "payout_id": A, "attempt": 1, "currency": "eur", "code": "balance_insufficient",
              "message": "Stripe says balance_insufficient", "transfer_id": tr(A, 1) },
            { "kind": "fail", "payout_id": B, "attempt": 1, "currency": "eur", "code": "account_invalid",
              "message": "Stripe says account_invalid" },
        ])
    );
}

#[test]
fn no_answer_leaves_the_attempt_for_the_next_run() {
    let claim = work(vec![transfer_attempt(A, 5000, "eur"), payout_attempt()], vec![reversal()]);
    let mut rounds = 0;
    let (answer, steps) = run(
        &claim,
        |call| {
            if call["url"].as_str().unwrap().ends_with("/v1/transfers") {
                rounds += 1;
                json!({ "error": "connection reset" })
            } else if call["url"].as_str().unwrap().ends_with("/reversals") {
                answered(503, &json!({ "error": { "type": "api_error", "message": "try later" } }))
            } else {
                stripe(call)
            }
        },
        Ok(json!([{ "recorded": 1 }])),
    );
    assert_eq!(rounds, outbound::MAX_ATTEMPTS, "retried with backoff within the run first");
    assert_eq!(
        ok_body(&answer),
        json!({ "claimed": 2, "transferred": 0, "paid_out": 1, "failed": 0, "reversed": 0, "deferred": 1 })
    );
    let record = steps.last().unwrap();
    assert_eq!(
        record["query"]["params"][0],
        json!([{ "kind": "step", "payout_id": B, "attempt": 2, "currency": "eur", "step": "payout", "stripe_id": po(B, 2) }]),
        "nothing is reported of the calls whose outcome is unknown"
    );
}

#[test]
fn an_answer_without_an_id_is_as_good_as_none() {
    let claim = work(vec![transfer_attempt(A, 5000, "eur")], vec![]);
    let (answer, steps) = run(&claim, |_| answered(200, &json!({ "object": "transfer" })), Ok(json!([])));
    assert_eq!(ok_body(&answer)["deferred"], 1);
    assert_eq!(steps.len(), 2, "no payout without a transfer, nothing recorded");
}

#[test]
fn a_crash_between_stripes_answer_and_our_commit_repeats_the_same_calls() {
    let claim = work(vec![transfer_attempt(A, 5000, "eur"), payout_attempt()], vec![reversal()]);
    let calls = |steps: &[Value]| -> Vec<Value> { steps.iter().filter(|s| s.get("http").is_some()).flat_map(calls_of).collect() };
    // Run 1: Stripe made everything, then the connection died before the record committed.
    let (crashed, first) = run(&claim, stripe, Err(json!({ "code": "CONNECTION_CLOSED", "message": "gone" })));
    assert_eq!(crashed["respond"]["status"], 503);
    // Run 2, once the lease ended: the claim hands out the same work.
    let (answer, second) = run(&claim, stripe, Ok(json!([{ "recorded": 4 }])));
    assert_eq!(
        calls(&second),
        calls(&first),
        "the same calls, with the same idempotency keys and parameters"
    );
    assert_eq!(second.last().unwrap()["query"]["params"], first.last().unwrap()["query"]["params"]);
    assert_eq!(ok_body(&answer)["paid_out"], 2);
}

#[test]
fn a_transfer_an_earlier_run_recorded_is_not_made_again() {
    let mut attempt = transfer_attempt(A, 5000, "eur");
    attempt["transfer_id"] = json!("tr_recorded");
    let (answer, steps) = run(&work(vec![attempt], vec![]), stripe, Ok(json!([{ "recorded": 1 }])));
    let made: Vec<Value> = calls_of(&steps[1]);
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["url"], "http://127.0.0.1:54340/v1/payouts", "straight to the payout");
    assert_eq!(ok_body(&answer)["transferred"], 0);
}

#[test]
fn nothing_to_do_is_answered_at_once() {
    let (answer, steps) = run(&work(vec![], vec![]), stripe, Ok(json!([])));
    assert_eq!(steps.len(), 1, "only the claim");
    assert_eq!(
        ok_body(&answer),
        json!({ "claimed": 0, "transferred": 0, "paid_out": 0, "failed": 0, "reversed": 0, "deferred": 0 })
    );
}

#[test]
fn refusals_that_say_nothing_about_the_payout_are_deferred_not_the_payees_failure() {
    let refusal = |status: u16, kind: &str, code: &str| {
        answered(
            status,
            &json!({ "error": { "type": kind, "code": code, "message": format!("Stripe says {code}") } }),
        )
    };
    let cases = [
        refusal(401, "invalid_request_error", "api_key_expired"),
        refusal(403, "invalid_request_error", "secret_key_required"),
        refusal(400, "idempotency_error", ""),
        refusal(400, "invalid_request_error", "balance_insufficient"),
    ];
    for (i, case) in cases.iter().enumerate() {
        let claim = work(vec![transfer_attempt(A, 5000, "eur")], vec![]);
        let (answer, steps) = run(&claim, |_| case.clone(), Ok(json!([])));
        let summary = ok_body(&answer);
        assert_eq!(
            (summary["failed"].as_u64(), summary["deferred"].as_u64()),
            (Some(0), Some(1)),
            "{case:?}: {summary}"
        );
        let problems = summary["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 1, "{summary}");
        assert!(problems[0].as_str().unwrap().contains(A), "{summary}");
        assert!(steps.iter().all(|s| s["state"]["step"] != "record"), "nothing is reported");
        // A reversal refused for our credentials waits too; the connected account's own refusal
        // (its balance) is recorded for an operator.
        let claim = work(vec![], vec![reversal()]);
        let (answer, steps) = run(&claim, |_| case.clone(), Ok(json!([{ "recorded": 1 }])));
        let recorded = steps.iter().any(|s| s["state"]["step"] == "record");
        assert_eq!(recorded, i == 3, "{case:?}: {answer}");
    }
}

#[test]
fn a_reversal_answered_without_an_id_is_asked_again_next_run() {
    let claim = work(vec![], vec![reversal()]);
    let (answer, steps) = run(&claim, |_| answered(200, &json!({ "object": "transfer_reversal" })), Ok(json!([])));
    assert_eq!(ok_body(&answer)["reversed"], 0);
    assert!(steps.iter().all(|s| s["state"]["step"] != "record"), "nothing is reported");
}
