//! The host protocol as the top of `lib.rs` states it: request ids, the 5xx
//! log line, and what a 5xx may say.

use super::*;
use crate::auth::tests::{auth_env, user_token, NOW_MICROS};

const REQUEST_ID: &str = "0f0e0d0c-0b0a-4909-8807-060504030201";

fn action(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// The `handle` export called as the host calls it (`head` is the request's
/// `{"method","url","headers","request_id"}`), its action parsed.
pub(crate) fn handle_as_host(function: &str, head: &Value, body: &[u8], now_ms: f64, env: &str, jwks: &str) -> Value {
    action(&handle(function, &head.to_string(), body, now_ms, env, jwks))
}

fn handle_with(function: &str, method: &str, headers: Value, env: &Value, jwks: &str) -> Value {
    let head = json!({ "method": method, "url": format!("http://127.0.0.1:54321/functions/v1/{function}"),
                       "headers": headers, "request_id": REQUEST_ID });
    handle_as_host(function, &head, b"{}", NOW_MICROS as f64 / 1000.0, &env.to_string(), jwks)
}

fn body(action: &Value) -> Value {
    serde_json::from_str(action["respond"]["body"].as_str().unwrap()).unwrap()
}

#[test]
fn every_response_carries_the_request_id() {
    let preflight = handle_with("passport-log", "OPTIONS", json!({}), &auth_env(), "{}");
    let refused = handle_with(
        "passport-log",
        "POST",
        json!({ "content-type": "application/json" }),
        &auth_env(),
        "{}",
    );
    let completed = action(&complete(
        "passport-log",
        r#"{"events":1}"#,
        r#"[{"results":[{"status":"accepted","id":1}]}]"#,
        0.0,
        "{}",
        REQUEST_ID,
    ));
    let failed = action(&fail(
        "passport-log",
        r#"{"events":1}"#,
        r#"{"code":"22023","message":"bad"}"#,
        REQUEST_ID,
    ));
    for (answer, status) in [(preflight, 204), (refused, 401), (completed, 200), (failed, 400)] {
        assert_eq!(answer["respond"]["status"], status);
        assert_eq!(answer["respond"]["headers"]["x-request-id"], REQUEST_ID, "{answer}");
        assert_eq!(answer["respond"]["headers"]["access-control-expose-headers"], "x-request-id");
        assert!(answer.get("log").is_none(), "{answer}");
        assert!(body_or_null(&answer).get("request_id").is_none());
    }
}

fn body_or_null(action: &Value) -> Value {
    serde_json::from_str(action["respond"]["body"].as_str().unwrap()).unwrap_or(Value::Null)
}

#[test]
fn a_failed_query_is_logged_with_the_databases_words_and_answered_without_them() {
    let message = "function passport.ingest(jsonb) does not exist";
    let error = json!({ "code": "42883", "message": message }).to_string();
    let answer = action(&fail("passport-log", r#"{"events":1}"#, &error, REQUEST_ID));
    assert_eq!(answer["respond"]["status"], 500);
    assert_eq!(answer["respond"]["headers"]["x-request-id"], REQUEST_ID);
    assert_eq!(
        body(&answer),
        json!({ "code": "internal", "message": "the function failed; retry later or contact support", "request_id": REQUEST_ID })
    );
    assert_eq!(
        answer["log"],
        json!({ "level": "error", "request_id": REQUEST_ID, "function": "passport-log", "status": 500,
                "code": "internal", "sqlstate": "42883", "message": message })
    );
}

#[test]
fn no_5xx_carries_the_databases_words() {
    let states = [
        ("passport-log", json!({ "events": 1 })),
        ("stripe-webhook", json!({ "event_id": "evt_1" })),
        ("ticket-token", json!({ "ticket_id": "5d0c7a52-8f3e-4b1a-9c6d-2e7f8a9b0c1d" })),
        ("ticket-validate", json!({})),
    ];
    let words = "Postgres says: relation \"public.secret_table\" violates something";
    for (function, state) in states {
        for code in [
            "22023", "23505", "40001", "40P01", "42501", "42883", "53300", "55000", "57014", "P0001", "P0002", "XX000",
        ] {
            let error = json!({ "code": code, "message": words }).to_string();
            let answer = action(&fail(function, &state.to_string(), &error, REQUEST_ID));
            if answer["respond"]["status"].as_u64().unwrap() < 500 {
                continue;
            }
            assert!(
                !answer["respond"]["body"].as_str().unwrap().contains("secret_table"),
                "{function} {code}: {answer}"
            );
            assert_eq!(body(&answer)["request_id"], REQUEST_ID);
            assert_eq!(
                (&answer["log"]["sqlstate"], &answer["log"]["message"]),
                (&json!(code), &json!(words)),
                "{function} {code}"
            );
        }
    }
}

#[test]
fn a_5xx_not_from_the_database_is_logged_too() {
    // No way to verify tokens: the operator must see it.
    let env = json!({ "TICKET_SIGNING_KEY": "4GbLka5YhbBdEfjfo7GIZI0lFr-niyevYmbvaXPXxOA" });
    let headers = json!({ "authorization": format!("Bearer {}", user_token()) });
    let answer = handle_with("ticket-token", "GET", headers, &env, "{}");
    assert_eq!(answer["respond"]["status"], 500);
    assert_eq!(body(&answer)["code"], "not_configured");
    assert_eq!(body(&answer)["request_id"], REQUEST_ID);
    assert_eq!(answer["log"]["code"], "not_configured");
    assert_eq!(answer["log"]["function"], "ticket-token");
    assert!(answer["log"].get("sqlstate").is_none());
    assert!(answer["log"]["message"].as_str().unwrap().contains("JWT_SECRET"));
    // Rows the handler cannot use: the log says which.
    let answer = action(&complete("passport-log", r#"{"events":2}"#, "[]", 0.0, "{}", REQUEST_ID));
    assert_eq!(body(&answer)["code"], "internal");
    assert_eq!(answer["log"]["message"], "passport.ingest did not answer one result per event");
}

#[test]
fn host_bugs_are_500_with_the_reason_in_the_log() {
    let head = json!({ "method": "POST", "url": "/", "headers": {}, "request_id": REQUEST_ID }).to_string();
    let bad_jwks = action(&handle("passport-log", &head, b"", 0.0, "{}", "not json"));
    assert_eq!(bad_jwks["respond"]["status"], 500);
    assert!(bad_jwks["log"]["message"].as_str().unwrap().contains("jwks_json"));
    let bad_env = action(&handle("passport-log", &head, b"", 0.0, "{", "{}"));
    assert!(bad_env["log"]["message"].as_str().unwrap().contains("env_json"));
    let bad_rows = action(&complete("passport-log", "{}", "rows", 0.0, "{}", REQUEST_ID));
    assert!(bad_rows["log"]["message"].as_str().unwrap().contains("rows_json"));
    let bad_error = action(&fail("passport-log", "{}", "oops", REQUEST_ID));
    assert!(bad_error["log"]["message"].as_str().unwrap().contains("error_json"));
    assert!(bad_error["log"].get("sqlstate").is_none());
}

#[test]
fn an_unknown_key_is_a_refresh_request() {
    let headers = json!({ "authorization": format!("Bearer {}", user_token()) });
    let refresh = handle_with(
        "passport-log",
        "POST",
        headers.clone(),
        &auth_env(),
        r#"{"jwks":null,"fresh":false}"#,
    );
    assert_eq!(refresh, json!({ "refresh_jwks": true }));
    // ticket-keys is public and never reads the token.
    let env = json!({ "TICKET_SIGNING_KEY": "4GbLka5YhbBdEfjfo7GIZI0lFr-niyevYmbvaXPXxOA" });
    let keys = handle_with("ticket-keys", "GET", headers, &env, "{}");
    assert_eq!(keys["respond"]["status"], 200);
}
