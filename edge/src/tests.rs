//! The host protocol as the top of `lib.rs` states it: request ids, the 5xx
//! log line, and what a 5xx may say.

use super::*;
use crate::auth::tests::{auth_env, host_jwks, user_token, NOW_MICROS};

const REQUEST_ID: &str = "0f0e0d0c-0b0a-4909-8807-060504030201";

fn action(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// The `handle` export called as the host calls it (`head` is the request's
/// `{"method","url","headers","request_id"}`), its action parsed.
pub(crate) fn handle_as_host(function: &str, head: &Value, body: &[u8], now_ms: f64, env: &str, jwks: &str) -> Value {
    action(&handle(function, &head.to_string(), body, now_ms, env, jwks))
}

/// Drives a request through every step as the host does: `handle`, then
/// `complete`/`fail` for each query and `received` for each round of HTTP
/// calls, until a response. `answer` plays the database and the network: it
/// gets each action (`{"query":…}` or `{"http":…}`) and returns the rows
/// (`Ok`) or the query's error (`Err`), or the HTTP results (`Ok`). Returns
/// the final `{"respond":…}` action and every action before it.
pub(crate) fn run_as_host(
    function: &str,
    head: &Value,
    body: &[u8],
    now_ms: f64,
    env: &str,
    jwks: &str,
    mut answer: impl FnMut(&Value) -> Result<Value, Value>,
) -> (Value, Vec<Value>) {
    let request_id = head["request_id"].as_str().unwrap_or_default().to_owned();
    let mut steps = Vec::new();
    let mut next = handle_as_host(function, head, body, now_ms, env, jwks);
    for _ in 0..MAX_STEPS {
        if next.get("respond").is_some() {
            return (next, steps);
        }
        let state = next["state"].to_string();
        let reply = answer(&next);
        let is_query = next.get("query").is_some();
        steps.push(next);
        next = match (is_query, reply) {
            (true, Ok(rows)) => action(&complete(function, &state, &rows.to_string(), now_ms, env, &request_id)),
            (true, Err(error)) => action(&fail(function, &state, &error.to_string(), now_ms, env, &request_id)),
            (false, Ok(results)) => action(&received(function, &state, &results.to_string(), now_ms, env, &request_id)),
            (false, Err(e)) => panic!("HTTP calls are answered with results, not {e}"),
        };
    }
    panic!("{function} took more than {MAX_STEPS} steps")
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
    let refused = handle_with("passport-log", "GET", json!({}), &auth_env(), "{}");
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
        0.0,
        "{}",
        REQUEST_ID,
    ));
    for (answer, status) in [(preflight, 204), (refused, 405), (completed, 200), (failed, 400)] {
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
    let answer = action(&fail("passport-log", r#"{"events":1}"#, &error, 0.0, "{}", REQUEST_ID));
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
        ("checkout", json!({ "step": "begin" })),
        ("billing-portal", json!({})),
    ];
    let words = "Postgres says: relation \"public.secret_table\" violates something";
    for (function, state) in states {
        for code in [
            "22023", "23505", "40001", "40P01", "42501", "42883", "53300", "55000", "57014", "P0001", "P0002", "XX000",
        ] {
            let error = json!({ "code": code, "message": words }).to_string();
            let answer = action(&fail(function, &state.to_string(), &error, 0.0, "{}", REQUEST_ID));
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
    let bad_error = action(&fail("passport-log", "{}", "oops", 0.0, "{}", REQUEST_ID));
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

#[test]
fn the_host_driver_runs_queries_to_a_response() {
    let head = json!({ "method": "POST", "url": "http://127.0.0.1:54321/functions/v1/passport-log",
                       "headers": { "authorization": format!("Bearer {}", user_token()), "content-type": "application/json" },
                       "request_id": REQUEST_ID });
    let body = br#"{"kind":"track.play","payload":{"track_id":"t","duration_ms":1}}"#;
    let (answer, steps) = run_as_host(
        "passport-log",
        &head,
        body,
        NOW_MICROS as f64 / 1000.0,
        &auth_env().to_string(),
        &host_jwks(),
        |step| {
            assert_eq!(step["query"]["role"], "authenticated", "{step}");
            Ok(json!([{ "results": [{ "status": "accepted", "id": 9 }] }]))
        },
    );
    assert_eq!(steps.len(), 1);
    assert_eq!(answer["respond"]["status"], 200, "{answer}");
    assert_eq!(answer["respond"]["headers"]["x-request-id"], REQUEST_ID);
}

#[test]
fn results_for_a_function_that_never_calls_out_are_a_500() {
    let answer = action(&received("passport-log", "{}", "[]", 0.0, "{}", REQUEST_ID));
    assert_eq!(answer["respond"]["status"], 500);
    assert!(answer["log"]["message"].as_str().unwrap().contains("no HTTP calls"));
    let bad = action(&received("passport-log", "{}", "{", 0.0, "{}", REQUEST_ID));
    assert!(bad["log"]["message"].as_str().unwrap().contains("results_json"));
}

/// A `{"http":…}` action's calls, each with its form or JSON body decoded:
/// `{"method","url","headers","form"|"json"}`, for asserting on what a
/// handler asks of Stripe or Resend.
pub(crate) fn calls_of(step: &Value) -> Vec<Value> {
    step["http"]["calls"]
        .as_array()
        .expect("an HTTP action")
        .iter()
        .map(|call| {
            let body = call["body"].as_str().unwrap_or_default();
            let decoded = if call["headers"]["content-type"] == "application/json" {
                json!({ "json": serde_json::from_str::<Value>(body).unwrap() })
            } else {
                let form: Map<String, Value> = form_urlencoded::parse(body.as_bytes())
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect();
                json!({ "form": form })
            };
            let mut call = call.clone();
            call.as_object_mut().unwrap().remove("body");
            call.as_object_mut().unwrap().extend(decoded.as_object().unwrap().clone());
            call
        })
        .collect()
}

/// One HTTP result as the host reports an answer.
pub(crate) fn answered(status: u16, body: &Value) -> Value {
    json!({ "status": status, "headers": { "request-id": "req_test" }, "body": body.to_string() })
}

/// [`run_as_host`] at the test clock with the project's JWKS, the network
/// answered call by call (`http` gets each call as [`calls_of`] shows it) and
/// the database by `db`, which gets each query action.
pub(crate) fn drive(
    function: &str,
    head: &Value,
    body: &[u8],
    env: &Value,
    mut db: impl FnMut(&Value) -> Result<Value, Value>,
    mut http: impl FnMut(&Value) -> Value,
) -> (Value, Vec<Value>) {
    run_as_host(
        function,
        head,
        body,
        NOW_MICROS as f64 / 1000.0,
        &env.to_string(),
        &host_jwks(),
        |step| {
            if step.get("http").is_some() {
                Ok(Value::Array(calls_of(step).iter().map(&mut http).collect()))
            } else {
                db(step)
            }
        },
    )
}

/// The head of a JSON `POST` to `function`, with `token` as the bearer if any.
pub(crate) fn post_head(function: &str, token: Option<&str>, request_id: &str) -> Value {
    let mut headers = json!({ "content-type": "application/json" });
    if let Some(token) = token {
        headers["authorization"] = json!(format!("Bearer {token}"));
    }
    json!({ "method": "POST", "url": format!("http://127.0.0.1:54321/functions/v1/{function}"), "headers": headers,
            "request_id": request_id })
}

/// The JSON body of a 200 answer.
pub(crate) fn ok_body(answer: &Value) -> Value {
    assert_eq!(answer["respond"]["status"], 200, "{answer}");
    serde_json::from_str(answer["respond"]["body"].as_str().unwrap()).unwrap()
}

/// A scheduled worker (crate::worker) refuses a request without a token (401), a user's or the anon key
/// (403), and with the service role key still claims nothing while `required` is missing from `env` (500,
/// logged naming it).
pub(crate) fn only_the_service_role_runs(function: &str, head: impl Fn(Option<&str>) -> Value, env: &Value, required: &str) {
    use crate::auth::tests::{anon_key, service_key};
    let now_ms = NOW_MICROS as f64 / 1000.0;
    for (token, status) in [(None, 401), (Some(user_token()), 403), (Some(anon_key()), 403)] {
        let answer = handle_as_host(function, &head(token.as_deref()), b"{}", now_ms, &env.to_string(), &host_jwks());
        assert_eq!(answer["respond"]["status"], status, "{function}: {answer}");
    }
    let mut unconfigured = env.clone();
    unconfigured.as_object_mut().unwrap().remove(required);
    let answer = handle_as_host(
        function,
        &head(Some(&service_key())),
        b"{}",
        now_ms,
        &unconfigured.to_string(),
        &host_jwks(),
    );
    assert_eq!(answer["respond"]["status"], 500, "{function} without {required}: {answer}");
    assert!(answer["log"]["message"].as_str().unwrap().contains(required), "{answer}");
}

/// The environment of a function that calls Stripe: the project's auth, a test key, the local stand-in.
pub(crate) fn stripe_env() -> Value {
    let mut env = auth_env();
    env["STRIPE_SECRET_KEY"] = json!("sk_test_key");
    env["STRIPE_API_BASE"] = json!("http://127.0.0.1:54340");
    env
}

#[test]
fn env_names_are_exactly_the_variables_a_handler_reads() {
    let every: Map<String, Value> = Env::NAMES.iter().map(|n| (n.to_string(), json!(format!("v-{n}")))).collect();
    let env: Env = serde_json::from_value(Value::Object(every)).unwrap();
    let read = serde_json::to_value(format!("{env:?}")).unwrap();
    for name in Env::NAMES {
        assert!(
            read.as_str().unwrap().contains(&format!("\"v-{name}\"")),
            "{name} is not read into Env"
        );
    }
    let fields = format!("{:?}", Env::default()).matches(": None").count();
    assert_eq!(fields, Env::NAMES.len(), "Env has a variable NAMES does not list");
}
