//! billing-portal through the host protocol: the customer read as the user,
//! the portal session request, and the answers.

use super::*;
use crate::auth::tests::{anon_key, host_jwks, user_claims, user_token, NOW_MICROS};
use crate::checkout::tests::{env, error};
use crate::tests::{handle_as_host, run_as_host};

fn head(method: &str, token: &str) -> Value {
    json!({ "method": method, "url": "http://127.0.0.1:54321/functions/v1/billing-portal",
            "headers": { "authorization": format!("Bearer {token}") }, "request_id": "5e5e5e5e-0000-4000-8000-000000000005" })
}

fn run(db: Result<Value, Value>, mut stripe: impl FnMut(&Value) -> Value) -> Value {
    let mut db = Some(db);
    run_as_host(
        "billing-portal",
        &head("POST", &user_token()),
        b"",
        NOW_MICROS as f64 / 1000.0,
        &env().to_string(),
        &host_jwks(),
        |step| {
            if step.get("http").is_some() {
                return Ok(stripe(step));
            }
            assert_eq!(
                step["query"],
                json!({ "sql": "select treasury.billing_customer() as customer", "params": [],
                        "role": "authenticated", "claims": user_claims() })
            );
            db.take().expect("one query")
        },
    )
    .0
}

#[test]
fn opens_a_portal_session_for_the_users_customer() {
    let mut sent = None;
    let answer = run(Ok(json!([{ "customer": "cus_ada" }])), |step| {
        sent = Some(step["http"]["calls"][0].clone());
        json!([{ "status": 200, "body": json!({ "id": "bps_1", "object": "billing_portal.session",
                                                   "url": "https://billing.stripe.com/p/session/test_1" }).to_string() }])
    });
    let call = sent.unwrap();
    assert_eq!(call["url"], "http://127.0.0.1:54340/v1/billing_portal/sessions");
    assert_eq!(
        call["headers"]["idempotency-key"],
        "buckets_portal_5e5e5e5e-0000-4000-8000-000000000005"
    );
    assert_eq!(
        call["body"],
        "customer=cus_ada&return_url=https%3A%2F%2Fapp.buckets.test%2Faccount%2Fbilling"
    );
    assert_eq!(answer["respond"]["status"], 200);
    assert_eq!(
        answer["respond"]["body"],
        r#"{"url":"https://billing.stripe.com/p/session/test_1"}"#
    );
}

#[test]
fn a_user_who_never_subscribed_has_no_billing_account() {
    let refused = json!({ "code": "P0002", "message": "you have no subscription to manage", "detail": "no_billing_account" });
    assert_eq!(
        error(&run(Err(refused), |_| panic!("no Stripe call"))),
        (404, "no_billing_account".into())
    );
}

#[test]
fn stripe_refusing_is_a_stable_error() {
    let answer = run(Ok(json!([{ "customer": "cus_gone" }])), |_| {
        json!([{ "status": 400, "body": json!({ "error": { "type": "invalid_request_error", "code": "resource_missing",
                                                            "message": "No such customer: 'cus_gone'" } }).to_string() }])
    });
    assert_eq!(error(&answer), (502, "provider_refused".into()));
}

#[test]
fn only_a_signed_in_user_posts() {
    let call = |method: &str, token: &str, env: &Value| {
        handle_as_host(
            "billing-portal",
            &head(method, token),
            b"",
            NOW_MICROS as f64 / 1000.0,
            &env.to_string(),
            &host_jwks(),
        )
    };
    assert_eq!(error(&call("POST", &anon_key(), &env())), (401, "sign_in_required".into()));
    assert_eq!(error(&call("GET", &user_token(), &env())), (405, "method_not_allowed".into()));
    let mut no_app = env();
    no_app["APP_URL"] = json!(null);
    assert_eq!(error(&call("POST", &user_token(), &no_app)), (500, "not_configured".into()));
}
