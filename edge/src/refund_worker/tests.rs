//! refund-worker through the host protocol: the claim, the Stripe call with
//! its exact parameters and idempotency key, the record, the summary; the
//! rules for a refusal, no answer, a failed refund and the retries.

use super::*;
use crate::auth::tests::service_key;
use crate::tests::{answered, drive, ok_body, only_the_service_role_runs, post_head, stripe_env};

const A: &str = "11111111-1111-4111-8111-111111111111";
const B: &str = "22222222-2222-4222-8222-222222222222";

fn head(token: Option<&str>) -> Value {
    post_head("refund-worker", token, "7a7a7a7a-0000-4000-8000-000000000002")
}

fn claimed(id: &str, attempts: i64) -> Value {
    json!({ "id": id, "payment_id": "pi_paid", "payment_intent": "pi_paid", "charge": null, "amount": 2500,
            "currency": "eur", "reason": "event_cancelled", "idempotency_key": format!("concierto_cancel_{id}"),
            "attempts": attempts })
}

fn request(id: &str, attempts: i64) -> Claimed {
    serde_json::from_value(claimed(id, attempts)).unwrap()
}

/// Stripe as the stand-in answers: the same key, the same refund.
fn stripe(call: &Value) -> Value {
    let key = call["headers"]["idempotency-key"].as_str().unwrap();
    answered(
        200,
        &json!({ "id": format!("re_{}", key.replace('-', "")), "object": "refund", "status": "succeeded" }),
    )
}

fn refused(status: u16, kind: &str, code: &str) -> Result<Value, ApiError> {
    Err(ApiError {
        service: Service::Stripe,
        status: Some(status),
        kind: kind.into(),
        code: Some(code.into()),
        message: format!("Stripe says {code}"),
        request_id: Some("req_1".into()),
        retryable: status == 429 || status >= 500,
    })
}

fn run(claim: Value, answer: impl FnMut(&Value) -> Value, states: Value) -> (Value, Vec<Value>) {
    let db = |step: &Value| match step["state"]["step"].as_str() {
        Some("claim") => Ok(json!([{ "work": claim.clone() }])),
        _ => Ok(json!([{ "states": states.clone() }])),
    };
    drive("refund-worker", &head(Some(&service_key())), b"{}", &stripe_env(), db, answer)
}

#[test]
fn only_the_service_role_runs_the_worker() {
    only_the_service_role_runs("refund-worker", head, &stripe_env(), "STRIPE_SECRET_KEY");
}

#[test]
fn a_run_refunds_each_request_under_its_key_and_records_it() {
    let (answer, steps) = run(json!([claimed(A, 1), claimed(B, 3)]), stripe, json!(["sent", "refunded"]));
    assert_eq!(ok_body(&answer), json!({ "claimed": 2, "sent": 2, "retrying": 0, "failed": 0 }));
    assert_eq!(steps.len(), 3, "claim, the refunds in one round, record");
    assert_eq!(steps[0]["query"]["sql"], CLAIM_SQL);
    assert_eq!(steps[0]["query"]["params"], json!([20, 300]));
    assert_eq!(steps[0]["query"]["role"], "service_role");

    let calls = crate::tests::calls_of(&steps[1]);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["method"], "POST");
    assert_eq!(calls[0]["url"], "http://127.0.0.1:54340/v1/refunds");
    assert_eq!(
        calls[0]["form"],
        json!({ "payment_intent": "pi_paid", "amount": "2500", "metadata[refund_request_id]": A,
                "metadata[payment_id]": "pi_paid", "metadata[reason]": "event_cancelled" }),
        "our own reason is not one of Stripe's: only in metadata"
    );
    assert_eq!(calls[0]["headers"]["idempotency-key"], format!("concierto_cancel_{A}"));
    assert_eq!(calls[0]["headers"]["stripe-version"], stripe_api::STRIPE_VERSION);
    assert_eq!(calls[1]["headers"]["idempotency-key"], format!("concierto_cancel_{B}"));

    assert_eq!(steps[2]["query"]["sql"], RECORD_SQL);
    assert_eq!(steps[2]["query"]["role"], "service_role");
    assert_eq!(
        steps[2]["query"]["params"][0],
        json!([
            { "id": A, "stripe_refund_id": format!("re_concierto_cancel_{}", A.replace('-', "")), "stripe_status": "succeeded" },
            { "id": B, "stripe_refund_id": format!("re_concierto_cancel_{}", B.replace('-', "")), "stripe_status": "succeeded" },
        ])
    );
}

#[test]
fn an_empty_queue_calls_nobody() {
    let (answer, steps) = run(json!([]), |_| panic!("no Stripe call"), json!([]));
    assert_eq!(ok_body(&answer), json!({ "claimed": 0, "sent": 0, "retrying": 0, "failed": 0 }));
    assert_eq!(steps.len(), 1);
}

#[test]
fn an_invoice_payment_is_refunded_by_its_charge_and_stripe_reasons_pass_through() {
    let mut r = request(A, 1);
    r.payment_id = "in_paid".into();
    r.payment_intent = None;
    r.charge = Some("ch_of_invoice".into());
    r.reason = "duplicate".into();
    let call = refund_request(&r).unwrap();
    assert_eq!(call.path, "/v1/refunds");
    assert_eq!(call.params["charge"], "ch_of_invoice");
    assert!(call.params.get("payment_intent").is_none());
    assert_eq!(call.params["reason"], "duplicate");
    r.charge = None;
    assert!(refund_request(&r).unwrap_err().contains("neither a PaymentIntent nor a charge"));
}

#[test]
fn a_refusal_about_the_refund_fails_it_for_good() {
    let o = outcome(&request(A, 1), refused(400, "invalid_request_error", "charge_already_refunded"));
    assert_eq!(o.retry_in_seconds, None);
    assert!(o.error.unwrap().contains("charge_already_refunded"));
    assert_eq!(o.stripe_refund_id, None);
}

#[test]
fn a_failed_or_canceled_refund_fails_the_request() {
    for status in ["failed", "canceled"] {
        let o = outcome(
            &request(A, 1),
            Ok(json!({ "id": "re_1", "object": "refund", "status": status, "failure_reason": "lost_or_stolen_card" })),
        );
        assert_eq!(o.stripe_refund_id, None, "{status}");
        assert_eq!(o.retry_in_seconds, None);
        assert_eq!(o.error.unwrap(), format!("Stripe's refund re_1 is {status}: lost_or_stolen_card"));
    }
    let pending = outcome(&request(A, 1), Ok(json!({ "id": "re_2", "object": "refund", "status": "pending" })));
    assert_eq!(
        pending.stripe_refund_id.as_deref(),
        Some("re_2"),
        "a pending refund is sent; the booking settles it"
    );
    assert_eq!(pending.stripe_status.as_deref(), Some("pending"));
}

#[test]
fn no_answer_a_busy_stripe_or_our_own_problem_is_retried_with_backoff_then_fails() {
    for result in [
        refused(503, "api_error", "unavailable"),
        refused(429, "rate_limit_error", "rate_limit"),
        refused(401, "authentication_error", "invalid_api_key"),
        refused(400, "idempotency_error", "idempotency_error"),
        Ok(json!({ "object": "refund" })),
    ] {
        let o = outcome(&request(A, 2), result.clone());
        assert_eq!(o.retry_in_seconds, Some(120), "{result:?}");
        assert!(o.error.is_some());
        let last = outcome(&request(A, MAX_ATTEMPTS), result);
        assert_eq!(last.retry_in_seconds, None, "the attempts ran out");
        assert!(last.error.unwrap().contains("after 8 attempts"));
    }
}

#[test]
fn the_delay_doubles_from_a_minute_to_at_most_an_hour() {
    let delays: Vec<i64> = (1..=8).map(retry_delay_seconds).collect();
    assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    assert_eq!(retry_delay_seconds(0), 60);
    assert_eq!(retry_delay_seconds(1000), 3600);
    // Eight attempts end within a few hours, well inside the 24 hours Stripe keeps a key.
    assert!(delays[..7].iter().sum::<i64>() < 4 * 3600);
}

#[test]
fn a_run_records_each_outcome_and_sums_them_up() {
    let (answer, steps) = run(
        json!([claimed(A, 1), claimed(B, 1)]),
        |call| {
            if call["headers"]["idempotency-key"] == format!("concierto_cancel_{B}") {
                answered(
                    400,
                    &json!({ "error": { "type": "invalid_request_error", "code": "amount_too_large",
                                        "message": "Refund amount is greater than unrefunded amount on charge" } }),
                )
            } else {
                stripe(call)
            }
        },
        json!(["sent", "failed"]),
    );
    assert_eq!(ok_body(&answer), json!({ "claimed": 2, "sent": 1, "retrying": 0, "failed": 1 }));
    let lines = &steps.last().unwrap()["query"]["params"][0];
    assert_eq!(lines[1]["id"], B);
    assert!(lines[1]["error"].as_str().unwrap().contains("amount_too_large"));
    assert!(lines[1].get("retry_in_seconds").is_none(), "final");
}

#[test]
fn a_stripe_outage_is_retried_within_the_run_then_left_for_a_later_attempt() {
    let mut calls = 0;
    let (answer, steps) = run(
        json!([claimed(A, 1)]),
        |_| {
            calls += 1;
            answered(503, &json!({ "error": { "type": "api_error", "message": "down" } }))
        },
        json!(["requested"]),
    );
    assert!(calls > 1, "the run retried the call itself first");
    let body = ok_body(&answer);
    assert_eq!(body["retrying"], 1);
    assert_eq!(body["problems"].as_array().unwrap().len(), 1);
    let line = &steps.last().unwrap()["query"]["params"][0][0];
    assert_eq!(line["retry_in_seconds"], 60);
}
