//! passport-log through the host protocol, as the Deno host drives it.

use super::*;
use crate::auth::tests::{
    anon_key, api_key_claims, auth_env, host_jwks, jwks_json, published, service_key, user_claims, user_token, ES256, NOW_MICROS, NOW_S,
    STRANGER, USER,
};
use crate::tests::{handle_as_host, run_as_host};

const NOW: &str = "2027-01-15T08:00:00.000000Z";
const ARTIST: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const TRACK: &str = "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f";
const OTHER_USER: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";

/// Calls the `handle` export with the host's JWKS `jwks` and parses its answer.
fn call_with_jwks(method: &str, headers: Value, body: &[u8], jwks: &str) -> Value {
    let head = json!({
        "method": method, "url": "http://127.0.0.1:54321/functions/v1/passport-log", "headers": headers,
        "request_id": "8c4d2a10-0000-4000-8000-000000000001",
    });
    handle_as_host(
        "passport-log",
        &head,
        body,
        NOW_MICROS as f64 / 1000.0,
        &auth_env().to_string(),
        jwks,
    )
}

fn call(method: &str, headers: Value, body: &[u8]) -> Value {
    call_with_jwks(method, headers, body, &host_jwks())
}

fn post_as(token: &str, body: &str) -> Value {
    call(
        "POST",
        json!({"Authorization": format!("Bearer {token}"), "Content-Type": "application/json"}),
        body.as_bytes(),
    )
}

fn post(body: &Value) -> Value {
    post_as(&user_token(), &body.to_string())
}

/// `(status, code)` of a `respond` action with an error body.
fn error(action: &Value) -> (u64, String) {
    let respond = &action["respond"];
    let body: Value = serde_json::from_str(respond["body"].as_str().unwrap()).unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(respond["headers"]["content-type"], "application/json");
    assert_eq!(respond["headers"]["access-control-allow-origin"], "*");
    (respond["status"].as_u64().unwrap(), body["code"].as_str().unwrap().to_owned())
}

/// The `passport.ingest` input of a query action.
fn entries(action: &Value) -> Vec<Value> {
    assert_eq!(action["query"]["sql"], "select passport.ingest($1::jsonb) as results", "{action}");
    assert_eq!(action["query"]["params"].as_array().unwrap().len(), 1);
    action["query"]["params"][0].as_array().unwrap().clone()
}

fn only_entry(action: &Value) -> Value {
    let mut all = entries(action);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// `(code, message)` of a pre-rejected entry.
fn rejection(entry: &Value) -> (&str, &str) {
    (
        entry["rejected"]["code"].as_str().unwrap(),
        entry["rejected"]["message"].as_str().unwrap(),
    )
}

fn follow() -> Value {
    json!({"kind": "social.follow", "client_event_id": "c-1", "artist_id": ARTIST, "payload": {"city": "Lagos"}})
}

fn with(mut event: Value, key: &str, value: Value) -> Value {
    event[key] = value;
    event
}

fn without(mut event: Value, key: &str) -> Value {
    event.as_object_mut().unwrap().remove(key);
    event
}

#[test]
fn one_event_becomes_one_normalised_entry() {
    let action = post(&follow());
    assert_eq!(action["state"], json!({"events": 1}));
    assert_eq!(action["query"]["role"], "authenticated");
    assert_eq!(action["query"]["claims"], user_claims());
    // passport.ingest may share a transaction with other requests' calls, ordered by the user whose rows it
    // writes; the anonymous count may not.
    assert_eq!(action["query"]["shared"], USER);
    assert_eq!(
        only_entry(&action),
        json!({
            "user_id": USER, "source": "app", "kind": "social.follow", "client_event_id": "c-1",
            "occurred_at": NOW, "artist_id": ARTIST, "payload": {"city": "Lagos"},
        })
    );
}

#[test]
fn optional_fields_default_and_null_means_absent() {
    let bare = json!({"kind": "profile.updated", "client_event_id": "p-1"});
    let entry = only_entry(&post(&bare));
    assert_eq!(
        (&entry["occurred_at"], &entry["artist_id"], &entry["payload"]),
        (&json!(NOW), &Value::Null, &json!({}))
    );
    let nulls = json!({"kind": "profile.updated", "client_event_id": "p-1", "occurred_at": null, "sent_at": null, "artist_id": null, "payload": null});
    assert_eq!(only_entry(&post(&nulls)), entry);
}

#[test]
fn occurred_at_is_utc_with_microseconds() {
    let event = with(follow(), "occurred_at", json!("2027-01-15T09:59:59.1234567+02:00"));
    assert_eq!(only_entry(&post(&event))["occurred_at"], "2027-01-15T07:59:59.123456Z");
}

#[test]
fn sent_at_corrects_the_senders_clock() {
    // The phone's clock runs one hour ahead: it says it sent at 09:00 what
    // happened at 08:59:30 by its clock, i.e. 07:59:30 by ours.
    let skewed = with(
        with(follow(), "occurred_at", json!("2027-01-15T08:59:30Z")),
        "sent_at",
        json!("2027-01-15T09:00:00Z"),
    );
    assert_eq!(only_entry(&post(&skewed))["occurred_at"], "2027-01-15T07:59:30.000000Z");
    // Without sent_at the same event claims to be an hour in the future.
    let future = rejection(&only_entry(&post(&without(skewed.clone(), "sent_at")))).0.to_owned();
    assert_eq!(future, "occurred_in_future");
    // A clock that runs behind moves the event later.
    let behind = with(
        with(follow(), "occurred_at", json!("2027-01-15T07:00:00Z")),
        "sent_at",
        json!("2027-01-15T07:30:00Z"),
    );
    assert_eq!(only_entry(&post(&behind))["occurred_at"], "2027-01-15T07:30:00.000000Z");
    // sent_at alone changes nothing: the event happened when it arrived.
    assert_eq!(
        only_entry(&post(&with(follow(), "sent_at", json!("2020-01-01T00:00:00Z"))))["occurred_at"],
        NOW
    );
}

#[test]
fn a_batch_keeps_its_order_and_rejects_per_event() {
    let events = json!({"events": [follow(), 42, with(follow(), "kind", json!("social.folow"))]});
    let action = post(&events);
    assert_eq!(action["state"], json!({"events": 3}));
    let all = entries(&action);
    assert_eq!(all[0]["kind"], "social.follow");
    assert_eq!(
        all[1],
        json!({"rejected": {"code": "invalid_event", "message": "an event must be a JSON object"}, "user_id": USER, "source": "app"})
    );
    assert_eq!(
        all[2],
        json!({
            "rejected": {"code": "unknown_kind", "message": "unknown event kind \"social.folow\""},
            "user_id": USER, "source": "app", "kind": "social.folow", "client_event_id": "c-1",
        })
    );
}

#[test]
fn batch_sizes() {
    let batch = |n: usize| post(&json!({ "events": vec![follow(); n] }));
    assert_eq!(error(&batch(0)), (400, "empty_batch".into()));
    assert_eq!(entries(&batch(1)).len(), 1);
    assert_eq!(entries(&batch(500)).len(), 500);
    assert_eq!(error(&batch(501)), (400, "batch_too_large".into()));
}

#[test]
fn body_shapes() {
    for (body, code) in [
        ("[]", "invalid_body"),
        ("[{}]", "invalid_body"),
        ("\"event\"", "invalid_body"),
        ("null", "invalid_body"),
        (r#"{"events": {}}"#, "invalid_body"),
        (r#"{"events": "x"}"#, "invalid_body"),
        (r#"{"events": [], "dry_run": true}"#, "invalid_body"),
        ("", "invalid_json"),
        ("{\"kind\": ", "invalid_json"),
        ("{} {}", "invalid_json"),
        ("not json", "invalid_json"),
    ] {
        assert_eq!(error(&post_as(&user_token(), body)), (400, code.to_owned()), "{body}");
    }
    let latin1 = call(
        "POST",
        json!({"authorization": format!("Bearer {}", user_token()), "content-type": "application/json"}),
        b"{\"k\":\"\xe9\"}",
    );
    assert_eq!(error(&latin1), (400, "invalid_json".into()));
    assert_eq!(entries(&post_as(&user_token(), &format!(" \n{}\n ", follow()))).len(), 1);
}

#[test]
fn request_status_codes() {
    let auth = format!("Bearer {}", user_token());
    let body = follow().to_string();
    let preflight = call("OPTIONS", json!({}), b"");
    assert_eq!(preflight["respond"]["status"], 204);
    assert_eq!(
        preflight["respond"]["headers"]["access-control-allow-headers"],
        "authorization, x-client-info, apikey, content-type"
    );
    assert_eq!(preflight["respond"]["headers"]["access-control-allow-origin"], "*");
    assert_eq!(
        error(&call("GET", json!({"authorization": auth}), b"")),
        (405, "method_not_allowed".into())
    );
    assert_eq!(
        error(&anonymous(None, body.as_bytes(), Ok(json!([{"admitted": ""}]))).0),
        (401, "missing_token".into())
    );
    assert_eq!(
        error(&call("POST", json!({"authorization": auth}), body.as_bytes())),
        (415, "unsupported_media_type".into())
    );
    assert_eq!(
        error(&call(
            "POST",
            json!({"authorization": auth, "content-type": "text/plain"}),
            body.as_bytes()
        )),
        (415, "unsupported_media_type".into())
    );
    let charset = call(
        "POST",
        json!({"authorization": auth, "content-type": "application/json; charset=utf-8"}),
        body.as_bytes(),
    );
    assert_eq!(entries(&charset).len(), 1);
}

#[test]
fn tokens() {
    let event = follow().to_string();
    let expired = ES256.sign(&with(user_claims(), "exp", json!(NOW_S - 31)));
    assert_eq!(error(&post_as(&expired, &event)), (401, "token_expired".into()));
    let forged = STRANGER.sign_as("ec-2027", &user_claims());
    assert_eq!(error(&post_as(&forged, &event)), (401, "invalid_token".into()));
}

/// Drives a POST with `headers` and `body` through every step of the host,
/// the database answering every query with `database`; returns the final
/// action and the steps before it.
fn through_host(headers: Value, body: &[u8], database: Result<Value, Value>) -> (Value, Vec<Value>) {
    let head = json!({"method": "POST", "url": "http://127.0.0.1:54321/functions/v1/passport-log", "headers": headers,
                      "request_id": "8c4d2a10-0000-4000-8000-000000000002"});
    run_as_host(
        "passport-log",
        &head,
        body,
        NOW_MICROS as f64 / 1000.0,
        &auth_env().to_string(),
        &host_jwks(),
        |_| database.clone(),
    )
}

/// An anonymous request (`authorization` as given) from 203.0.113.9: the
/// final action and its one query.
fn anonymous(authorization: Option<String>, body: &[u8], database: Result<Value, Value>) -> (Value, Value) {
    let mut headers = json!({"content-type": "application/json", "x-forwarded-for": "203.0.113.9, 127.0.0.1"});
    if let Some(authorization) = authorization {
        headers["authorization"] = json!(authorization);
    }
    let (last, steps) = through_host(headers, body, database);
    assert_eq!(steps.len(), 1, "{steps:?}");
    (last, steps[0]["query"].clone())
}

#[test]
fn anonymous_callers_are_counted_by_address_then_refused() {
    let event = follow().to_string();
    let keys = [
        Some(format!("Bearer {}", anon_key())),
        Some("Bearer sb_publishable_ZmFrZS1wdWJsaXNoYWJsZS1rZXk".to_owned()),
        None,
    ];
    for key in keys {
        let (answer, query) = anonymous(key.clone(), event.as_bytes(), Ok(json!([{"admitted": ""}])));
        // Counted as the service role, under the address the proxy reported; nothing is logged.
        assert_eq!(query["sql"], "select passport.admit_anonymous($1) as admitted");
        assert_eq!(query["params"], json!(["203.0.113.9"]));
        assert_eq!(query["role"], "service_role");
        assert_eq!(query.get("shared"), None);
        let expected = if key.is_some() { "sign_in_required" } else { "missing_token" };
        assert_eq!(error(&answer), (401, expected.into()));
        assert_eq!(answer["respond"]["headers"]["www-authenticate"], "Bearer");

        let limited = json!({"code": "PT429", "detail": "7",
                             "message": "rate limited: one address may send 60 anonymous requests at once and 60 a minute; retry in 7 s"});
        let (answer, _) = anonymous(key, event.as_bytes(), Err(limited));
        assert_eq!(error(&answer), (429, "rate_limited".into()));
        assert_eq!(answer["respond"]["headers"]["retry-after"], "7");
    }
}

#[test]
fn a_user_over_the_limit_gets_429_with_retry_after() {
    let limited = json!({"code": "PT429", "detail": "3",
                         "message": "rate limited: a user may send 3000 events at once and 60 a minute; retry in 3 s"});
    let headers = json!({"authorization": format!("Bearer {}", user_token()), "content-type": "application/json"});
    let (answer, steps) = through_host(headers, follow().to_string().as_bytes(), Err(limited));
    assert_eq!(steps[0]["query"]["sql"], "select passport.ingest($1::jsonb) as results");
    assert_eq!(error(&answer), (429, "rate_limited".into()));
    assert_eq!(answer["respond"]["headers"]["retry-after"], "3");
    let body: Value = serde_json::from_str(answer["respond"]["body"].as_str().unwrap()).unwrap();
    assert!(body["message"].as_str().unwrap().contains("retry in 3 s"), "{body}");
}

#[test]
fn a_token_of_an_unknown_key_asks_for_the_jwks_first() {
    let headers = json!({"authorization": format!("Bearer {}", STRANGER.sign(&user_claims())), "content-type": "application/json"});
    let body = follow().to_string();
    let stale = call_with_jwks("POST", headers.clone(), body.as_bytes(), &host_jwks());
    assert_eq!(stale, json!({"refresh_jwks": true}));
    let fresh = jwks_json(published(&[&ES256]), true);
    assert_eq!(
        error(&call_with_jwks("POST", headers.clone(), body.as_bytes(), &fresh)),
        (401, "invalid_token".into())
    );
    let unreachable = jwks_json(Value::Null, true);
    let answer = call_with_jwks("POST", headers, body.as_bytes(), &unreachable);
    assert_eq!(error(&answer), (503, "auth_unavailable".into()));
    assert_eq!(answer["respond"]["headers"]["retry-after"], "5");
    assert_eq!(answer["log"]["code"], "auth_unavailable");
}

#[test]
fn the_token_is_checked_before_the_body() {
    let huge = vec![b' '; MAX_REQUEST_BYTES + 1];
    assert_eq!(
        error(&anonymous(None, &huge, Ok(json!([{"admitted": ""}]))).0),
        (401, "missing_token".into())
    );
}

#[test]
fn request_size_limit() {
    let event = follow().to_string();
    let padded = |total: usize| format!("{event}{}", " ".repeat(total - event.len()));
    assert_eq!(entries(&post_as(&user_token(), &padded(MAX_REQUEST_BYTES))).len(), 1);
    assert_eq!(
        error(&post_as(&user_token(), &padded(MAX_REQUEST_BYTES + 1))),
        (413, "request_too_large".into())
    );
}

#[test]
fn event_size_limit_counts_the_raw_bytes() {
    let event = follow().to_string();
    let padded = |total: usize| format!("{} {}", &event[..event.len() - 1], " ".repeat(total - event.len() - 1)) + "}";
    assert_eq!(padded(MAX_EVENT_BYTES).len(), MAX_EVENT_BYTES);
    let fits = post_as(&user_token(), &format!("{{\"events\": [{}]}}", padded(MAX_EVENT_BYTES)));
    assert_eq!(only_entry(&fits)["kind"], "social.follow");
    let too_large = only_entry(&post_as(
        &user_token(),
        &format!("{{\"events\": [{}]}}", padded(MAX_EVENT_BYTES + 1)),
    ));
    assert_eq!(rejection(&too_large), ("event_too_large", "the event is larger than 32768 bytes"));
    assert_eq!(
        (&too_large["kind"], &too_large["client_event_id"]),
        (&json!("social.follow"), &json!("c-1"))
    );
    let single = only_entry(&post_as(&user_token(), &padded(MAX_EVENT_BYTES + 1)));
    assert_eq!(rejection(&single).0, "event_too_large");
}

#[test]
fn envelope_rejections_name_the_field() {
    let long_id = "x".repeat(MAX_CLIENT_EVENT_ID_CHARS + 1);
    let cases = [
        (
            with(follow(), "mood", json!("happy")),
            "unknown_field",
            "mood is not an event field",
        ),
        (
            with(with(follow(), "zeta", json!(1)), "Alpha", json!(1)),
            "unknown_field",
            "Alpha is not an event field",
        ),
        (
            with(follow(), "user_id", json!(OTHER_USER)),
            "forbidden_field",
            "user_id may only be given by the service role",
        ),
        (
            with(follow(), "source", json!("treasury")),
            "forbidden_field",
            "source may only be given by the service role",
        ),
        (without(follow(), "kind"), "missing_field", "kind is required"),
        (with(follow(), "kind", json!(7)), "invalid_field", "kind must be a string"),
        (without(follow(), "client_event_id"), "missing_field", "client_event_id is required"),
        (
            with(follow(), "client_event_id", json!("")),
            "invalid_field",
            "client_event_id must be a string of 1 to 200 characters",
        ),
        (
            with(follow(), "client_event_id", json!(long_id)),
            "invalid_field",
            "client_event_id must be a string of 1 to 200 characters",
        ),
        (
            with(follow(), "client_event_id", json!(12)),
            "invalid_field",
            "client_event_id must be a string of 1 to 200 characters",
        ),
        (
            with(follow(), "occurred_at", json!("yesterday")),
            "invalid_field",
            "occurred_at must be an RFC 3339 timestamp",
        ),
        (
            with(follow(), "occurred_at", json!("2027-01-15T08:00:00")),
            "invalid_field",
            "occurred_at must be an RFC 3339 timestamp",
        ),
        (
            with(follow(), "sent_at", json!(1700000000)),
            "invalid_field",
            "sent_at must be an RFC 3339 timestamp",
        ),
        (
            with(follow(), "occurred_at", json!("0001-01-01T00:30:00+01:00")),
            "invalid_field",
            "occurred_at must be between the years 0001 and 9999 (after the sent_at correction)",
        ),
        (
            with(follow(), "artist_id", json!("a1b2c3d4")),
            "invalid_field",
            "artist_id must be a UUID",
        ),
        (
            with(follow(), "payload", json!([1])),
            "invalid_field",
            "payload must be a JSON object",
        ),
        (
            with(follow(), "payload", json!({"city": "La\u{0}gos"})),
            "invalid_event",
            "the event holds the character U+0000, which cannot be stored",
        ),
    ];
    for (event, code, message) in cases {
        let entry = only_entry(&post(&event));
        assert_eq!(rejection(&entry), (code, message), "{event}");
        assert_eq!((&entry["user_id"], &entry["source"]), (&json!(USER), &json!("app")));
    }
}

#[test]
fn catalog_rejections_come_from_buckets_core() {
    let play =
        json!({"kind": "audio.play", "client_event_id": "p", "artist_id": ARTIST, "payload": {"track_id": TRACK, "duration_ms": 31000}});
    let cases = [
        (
            with(follow(), "kind", json!("audio.plya")),
            "unknown_kind",
            "unknown event kind \"audio.plya\"",
        ),
        (
            json!({"kind": "treasury.money_spent", "client_event_id": "m", "payload": {"payment_id": "pi_1", "amount_minor": 500, "currency": "EUR", "product_type": "drop"}}),
            "forbidden_kind",
            "treasury.money_spent is not accepted from source app",
        ),
        (without(follow(), "artist_id"), "artist_required", "social.follow needs artist_id"),
        (
            with(play.clone(), "payload", json!({"track_id": TRACK})),
            "missing_field",
            "payload.duration_ms is required for audio.play",
        ),
        (
            with(play.clone(), "payload", json!({"track_id": TRACK, "duration_ms": "31s"})),
            "invalid_field",
            "payload.duration_ms must be an integer >= 0",
        ),
        (
            with(play.clone(), "payload", json!({"track_id": TRACK, "duration_ms": 1, "mood": "x"})),
            "unknown_field",
            "payload.mood is not a field of audio.play",
        ),
        (
            with(play.clone(), "occurred_at", json!("2027-01-15T08:05:00.000001Z")),
            "occurred_in_future",
            "occurred_at is more than 5 minutes in the future",
        ),
    ];
    for (event, code, message) in cases {
        assert_eq!(rejection(&only_entry(&post(&event))), (code, message), "{event}");
    }
    assert_eq!(
        only_entry(&post(&with(play, "occurred_at", json!("2027-01-15T08:05:00Z"))))["kind"],
        "audio.play"
    );
}

#[test]
fn the_service_role_logs_for_a_user() {
    let money = json!({
        "kind": "treasury.money_spent", "client_event_id": "pi_1", "user_id": OTHER_USER, "source": "treasury",
        "payload": {"payment_id": "pi_1", "amount_minor": 500, "currency": "EUR", "product_type": "drop"},
    });
    let action = post_as(&service_key(), &money.to_string());
    assert_eq!(action["query"]["role"], "service_role");
    assert_eq!(action["query"]["claims"], api_key_claims("service_role"));
    // Its calls may write anyone's rows; they go first in a shared transaction.
    assert_eq!(action["query"]["shared"], "");
    let entry = only_entry(&action);
    assert_eq!(
        (&entry["user_id"], &entry["source"], &entry["kind"]),
        (&json!(OTHER_USER), &json!("treasury"), &json!("treasury.money_spent"))
    );
    let system = only_entry(&post_as(&service_key(), &with(follow(), "user_id", json!(OTHER_USER)).to_string()));
    assert_eq!((&system["user_id"], &system["source"]), (&json!(OTHER_USER), &json!("system")));
    let as_app = only_entry(&post_as(&service_key(), &with(money.clone(), "source", json!("app")).to_string()));
    assert_eq!(rejection(&as_app).0, "forbidden_kind");
    assert_eq!(as_app["source"], "app");
}

#[test]
fn service_role_rejections() {
    let cases = [
        (
            follow(),
            "missing_field",
            "user_id is required for the service role",
            None,
            Some("system"),
        ),
        (
            with(follow(), "user_id", json!("someone")),
            "invalid_field",
            "user_id must be a UUID",
            None,
            Some("system"),
        ),
        (
            with(with(follow(), "user_id", json!(OTHER_USER)), "source", json!("bank")),
            "invalid_field",
            "source must be one of app, treasury, concierto, companon, system",
            Some(OTHER_USER),
            None,
        ),
    ];
    for (event, code, message, user_id, source) in cases {
        let entry = only_entry(&post_as(&service_key(), &event.to_string()));
        assert_eq!(rejection(&entry), (code, message), "{event}");
        assert_eq!(
            (
                entry.get("user_id").and_then(Value::as_str),
                entry.get("source").and_then(Value::as_str)
            ),
            (user_id, source)
        );
    }
}

fn complete_with(state: Value, rows: &str) -> Value {
    serde_json::from_str(&crate::complete("passport-log", &state.to_string(), rows, 0.0, "{}", "r-1")).unwrap()
}

#[test]
fn complete_shapes_the_results() {
    let rows = r#"[{"results": [{"status": "accepted", "id": 7}, {"status": "duplicate", "id": 3}]}]"#;
    let out = complete_with(json!({"events": 2}), rows);
    assert_eq!(out["respond"]["status"], 200);
    assert_eq!(out["respond"]["headers"]["content-type"], "application/json");
    let body: Value = serde_json::from_str(out["respond"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"results": [{"status": "accepted", "id": 7}, {"status": "duplicate", "id": 3}]})
    );
}

#[test]
fn complete_refuses_rows_that_do_not_match() {
    for rows in [
        r#"[{"results": [{"status": "accepted", "id": 7}]}]"#,
        "[]",
        r#"[{"results": null}]"#,
        "{}",
        "not json",
    ] {
        assert_eq!(
            error(&complete_with(json!({"events": 2}), rows)),
            (500, "internal".into()),
            "{rows}"
        );
    }
}

#[test]
fn fail_maps_sqlstates() {
    let fail = |error: Value| -> Value {
        serde_json::from_str(&crate::fail(
            "passport-log",
            r#"{"events":1}"#,
            &error.to_string(),
            0.0,
            "{}",
            "r-1",
        ))
        .unwrap()
    };
    assert_eq!(
        error(&fail(json!({"code": "22023", "message": "bad"}))),
        (400, "invalid_request".into())
    );
    assert_eq!(error(&fail(json!({"code": "42501", "message": "no"}))), (403, "forbidden".into()));
    assert_eq!(
        error(&fail(json!({"code": "57P01", "message": "terminating connection"}))),
        (503, "unavailable".into())
    );
    assert_eq!(
        error(&fail(
            json!({"code": "42883", "message": "function passport.ingest(jsonb) does not exist"})
        )),
        (500, "internal".into())
    );
    assert_eq!(error(&fail(json!({"message": "socket hang up"}))), (500, "internal".into()));
}

#[test]
fn unknown_functions_and_host_bugs() {
    let out: Value = serde_json::from_str(&crate::handle("passport-lgo", "{}", b"", 0.0, "{}", "{}")).unwrap();
    assert_eq!(error(&out), (404, "not_found".into()));
    let out: Value = serde_json::from_str(&crate::complete("nope", "{}", "[]", 0.0, "{}", "r-1")).unwrap();
    assert_eq!(error(&out), (404, "not_found".into()));
    let out: Value = serde_json::from_str(&crate::handle("passport-log", "not json", b"", 0.0, "{}", "{}")).unwrap();
    assert_eq!(error(&out), (500, "internal".into()));
    assert!(out["log"]["message"].as_str().unwrap().contains("request_json"));
}
