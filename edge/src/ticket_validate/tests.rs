//! ticket-validate through the host protocol: one scan now, offline batches.

use super::*;
use crate::auth::tests::{auth_env, host_jwks, service_key, user_claims, user_token, NOW_MICROS};
use crate::tests::handle_as_host;
use crate::tickets::tests::{keys, other_keys, token, NOW_S, SEED, TICKET};
use crate::tickets::{parse_uuid, CLOCK_SKEW_S, KID, TTL_S};
use serde_json::json;

const EVENT: &str = "e1e2e3e4-0000-4000-8000-000000000001";
/// One second before the test's now.
const SCANNED_AT: &str = "2027-01-15T07:59:59Z";

fn env() -> String {
    let mut env = auth_env();
    env["TICKET_SIGNING_KEY"] = json!(SEED);
    env.to_string()
}

fn headers_for(token: &str) -> Value {
    json!({ "Authorization": format!("Bearer {token}"), "Content-Type": "application/json" })
}

fn call_with(method: &str, headers: Value, body: &[u8], env: &str) -> Value {
    let head = json!({
        "method": method, "url": "http://127.0.0.1:54321/functions/v1/ticket-validate", "headers": headers,
        "request_id": "r-1",
    });
    handle_as_host("ticket-validate", &head, body, NOW_MICROS as f64 / 1000.0, env, &host_jwks())
}

fn post(body: &Value) -> Value {
    call_with("POST", headers_for(&user_token()), body.to_string().as_bytes(), &env())
}

fn error(action: &Value) -> (u64, String) {
    let respond = &action["respond"];
    let body: Value = serde_json::from_str(respond["body"].as_str().unwrap()).unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    (respond["status"].as_u64().unwrap(), body["code"].as_str().unwrap().to_owned())
}

fn body_of(respond: &Value) -> Value {
    serde_json::from_str(respond["body"].as_str().unwrap()).unwrap()
}

fn completed(state: &Value, rows: Value) -> Value {
    let out = crate::complete(
        "ticket-validate",
        &state.to_string(),
        &rows.to_string(),
        NOW_MICROS as f64 / 1000.0,
        &env(),
        "r-1",
    );
    serde_json::from_str::<Value>(&out).unwrap()["respond"].clone()
}

/// Checks that the query runs as the signed-in user.
fn assert_as_the_user(action: &Value) {
    assert_eq!(action["query"]["role"], "authenticated");
    assert_eq!(action["query"]["claims"], user_claims());
}

fn scan(token: &str, scanned_at: &str, nonce: &str) -> Value {
    json!({ "token": token, "event_id": EVENT, "gate": "north", "scanned_at": scanned_at, "nonce": nonce })
}

fn forged() -> String {
    other_keys(9, KID).sign(parse_uuid(TICKET).unwrap(), 1, NOW_S + TTL_S)
}

#[test]
fn a_good_token_is_redeemed_as_the_caller() {
    let action = post(&json!({ "token": token(4, TTL_S), "event_id": EVENT, "gate": "north" }));
    assert_eq!(
        action["query"]["sql"],
        "select concierto.redeem($1::uuid, $2::int, $3::uuid, $4::text) as result"
    );
    assert_as_the_user(&action);
    assert_eq!(action["query"]["params"], json!([TICKET, 4, EVENT, "north"]));
    // It may share a transaction with other requests' scans, ordered by the ticket it locks.
    assert_eq!(action["query"]["shared"], TICKET);
}

#[test]
fn a_bad_single_token_is_422_with_its_code() {
    let other_kid = other_keys(9, 2).sign(parse_uuid(TICKET).unwrap(), 1, NOW_S + TTL_S);
    let cases = [
        ("BKT1.nope".to_owned(), "malformed_token"),
        (forged(), "invalid_signature"),
        (keys().sign(parse_uuid(TICKET).unwrap(), 1, NOW_S), "expired_token"),
        (
            keys().sign(parse_uuid(TICKET).unwrap(), 1, NOW_S + TTL_S + CLOCK_SKEW_S + 1),
            "token_not_yet_valid",
        ),
        (other_kid, "unknown_key"),
    ];
    for (token, code) in cases {
        let action = post(&json!({ "token": token, "event_id": EVENT, "gate": "north" }));
        assert_eq!(error(&action), (422, code.into()), "{token}");
    }
}

#[test]
fn the_single_body_is_checked() {
    let good = json!({ "token": token(1, TTL_S), "event_id": EVENT, "gate": "north" });
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    for body in [
        without("token"),
        without("event_id"),
        without("gate"),
        with("token", json!(42)),
        with("event_id", json!("not-a-uuid")),
        with("event_id", Value::Null),
        with("gate", json!("")),
        with("gate", json!("g".repeat(MAX_GATE_CHARS + 1))),
        with("gate", json!("a\u{0}b")),
        with("gate", json!(7)),
        with("extra", json!(1)),
        json!([good.clone()]),
        json!("token"),
        json!({ "scans": [], "token": "x" }),
    ] {
        assert_eq!(error(&post(&body)), (400, "invalid_body".into()), "{body}");
    }
    assert!(post(&with("gate", json!("g".repeat(MAX_GATE_CHARS))))["query"].is_object());
    let not_json = call_with("POST", headers_for(&user_token()), b"{", &env());
    assert_eq!(error(&not_json), (400, "invalid_body".into()));
}

#[test]
fn callers_methods_and_sizes() {
    let body = json!({ "token": token(1, TTL_S), "event_id": EVENT, "gate": "north" }).to_string();
    let no_auth = call_with("POST", json!({ "Content-Type": "application/json" }), body.as_bytes(), &env());
    assert_eq!(error(&no_auth), (401, "missing_token".into()));
    assert_eq!(
        error(&call_with("POST", headers_for(&service_key()), body.as_bytes(), &env())),
        (403, "user_token_required".into())
    );
    assert_eq!(
        error(&call_with("POST", headers_for("sb_publishable_x"), body.as_bytes(), &env())),
        (401, "sign_in_required".into())
    );
    let mut text = headers_for(&user_token());
    text["Content-Type"] = json!("text/plain");
    assert_eq!(
        error(&call_with("POST", text, body.as_bytes(), &env())),
        (415, "unsupported_media_type".into())
    );
    let huge = vec![b' '; MAX_REQUEST_BYTES + 1];
    assert_eq!(
        error(&call_with("POST", headers_for(&user_token()), &huge, &env())),
        (413, "request_too_large".into())
    );
    assert_eq!(
        error(&call_with("GET", headers_for(&user_token()), b"", &env())),
        (405, "method_not_allowed".into())
    );
    let no_key = auth_env().to_string();
    assert_eq!(
        error(&call_with("POST", headers_for(&user_token()), body.as_bytes(), &no_key)),
        (500, "not_configured".into())
    );
}

#[test]
fn the_redeem_result_is_the_answer() {
    for result in [
        json!({ "status": "admitted", "ticket_id": TICKET, "at": "2027-01-15T08:00:00Z", "gate": "north" }),
        json!({ "status": "already_admitted", "at": "2027-01-15T07:58:00Z", "gate": "south" }),
        json!({ "status": "refused", "code": "old_version" }),
    ] {
        let answer = completed(&json!({}), json!([{ "result": result }]));
        assert_eq!(answer["status"], 200);
        assert_eq!(body_of(&answer), result);
    }
    for rows in [json!([]), json!([{ "result": null }]), json!([{ "result": { "code": "x" } }])] {
        assert_eq!(completed(&json!({}), rows)["status"], 500);
    }
    let fail = |code: &str| {
        let db_error = json!({ "code": code, "message": "only the event's staff may validate its tickets" }).to_string();
        let out: Value = serde_json::from_str(&crate::fail("ticket-validate", "{}", &db_error, 0.0, "{}", "r-1")).unwrap();
        error(&out)
    };
    assert_eq!(fail("42501"), (403, "forbidden".into()));
    assert_eq!(fail("P0002"), (404, "event_not_found".into()));
    assert_eq!(fail("40001"), (503, "retry".into()));
}

#[test]
fn an_offline_batch_is_checked_at_each_scan_time() {
    // Expired by the upload, but good when it was scanned: accepted.
    let scanned_in_time = keys().sign(parse_uuid(TICKET).unwrap(), 2, NOW_S);
    let expired_when_scanned = keys().sign(parse_uuid(TICKET).unwrap(), 2, NOW_S - 1);
    let scans = json!({ "scans": [
        scan(&scanned_in_time, SCANNED_AT, "n-1"),
        scan(&expired_when_scanned, SCANNED_AT, "n-2"),
        scan(&token(3, TTL_S), "2027-01-15T08:01:00.000001Z", "n-3"),
        scan(&forged(), SCANNED_AT, "n-4"),
        scan("BKT1.", SCANNED_AT, "n-5"),
        scan(&token(3, TTL_S), "2027-01-15T09:00:00+01:00", "n-6"),
    ]});
    let action = post(&scans);
    assert_eq!(action["query"]["sql"], "select concierto.upload_scans($1::jsonb) as result");
    assert_as_the_user(&action);
    assert_eq!(action["query"].get("shared"), None);
    assert_eq!(
        action["query"]["params"][0],
        json!([
            { "ticket_id": TICKET, "version": 2, "event_id": EVENT, "gate": "north",
              "scanned_at": "2027-01-15T07:59:59.000000Z", "nonce": "n-1" },
            { "ticket_id": TICKET, "version": 3, "event_id": EVENT, "gate": "north",
              "scanned_at": "2027-01-15T08:00:00.000000Z", "nonce": "n-6" },
        ])
    );
    let answer = completed(
        &action["state"],
        json!([{ "result": { "results": [
            { "nonce": "n-1", "ticket_id": TICKET, "status": "admitted", "at": "2027-01-15T07:59:59Z", "gate": "north" },
            { "nonce": "n-6", "ticket_id": TICKET, "status": "already_admitted", "at": "2027-01-15T07:59:59Z", "gate": "north" },
        ], "admitted": 1, "already_admitted": 1, "refused": 0 }}]),
    );
    assert_eq!(answer["status"], 200);
    assert_eq!(
        body_of(&answer),
        json!({ "results": [
            { "nonce": "n-1", "ticket_id": TICKET, "status": "admitted", "at": "2027-01-15T07:59:59Z", "gate": "north" },
            { "nonce": "n-2", "status": "refused", "code": "expired_token" },
            { "nonce": "n-3", "status": "refused", "code": SCANNED_IN_FUTURE },
            { "nonce": "n-4", "status": "refused", "code": "invalid_signature" },
            { "nonce": "n-5", "status": "refused", "code": "malformed_token" },
            { "nonce": "n-6", "ticket_id": TICKET, "status": "already_admitted", "at": "2027-01-15T07:59:59Z", "gate": "north" },
        ], "admitted": 1, "already_admitted": 1, "refused": 4 })
    );
}

#[test]
fn offline_expiry_edges() {
    let expires = NOW_S - 10;
    let token = keys().sign(parse_uuid(TICKET).unwrap(), 1, expires);
    let at = |micros: i64| {
        DateTime::from_timestamp_micros(micros)
            .unwrap()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    };
    let expires_micros = i64::from(expires) * 1_000_000;
    let action = post(&json!({ "scans": [
        scan(&token, &at(expires_micros - 1), "last-moment"),
        scan(&token, &at(expires_micros), "too-late"),
        scan(&token, &at(NOW_MICROS), "at-upload"),
    ]}));
    let accepted = action["query"]["params"][0].as_array().unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["nonce"], "last-moment");
    // Scanned exactly at the upload time is not in the future.
    let now_scan = post(&json!({ "scans": [scan(&self::token(1, TTL_S), &at(NOW_MICROS), "now")] }));
    assert_eq!(now_scan["query"]["params"][0][0]["nonce"], "now");
}

/// The nonces of an offline batch's scans that go on to the database, and
/// the codes of those refused here (at least one must go on).
fn sorted_out(scans: Vec<Value>) -> (Vec<String>, Vec<(String, String)>) {
    let action = post(&json!({ "scans": scans }));
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for scan in action["state"]["scans"].as_array().unwrap() {
        let nonce = scan["nonce"].as_str().unwrap().to_owned();
        match scan["refused"].as_str() {
            Some(code) => refused.push((nonce, code.to_owned())),
            None => accepted.push(nonce),
        }
    }
    (accepted, refused)
}

#[test]
fn an_offline_scan_time_must_be_one_the_token_and_the_upload_allow() {
    let at = |micros: i64| {
        DateTime::from_timestamp_micros(micros)
            .unwrap()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    };
    let s = 1_000_000;
    let skew = i64::from(CLOCK_SKEW_S) * s;
    let ttl = i64::from(TTL_S) * s;
    let good_until = |expires_micros: i64| keys().sign(parse_uuid(TICKET).unwrap(), 1, (expires_micros / s) as u32);
    // A token that expired 50 minutes before the upload: scanned in its lifetime, fine; dated before
    // it was issued (beyond the skew), refused.
    let old_expiry = NOW_MICROS - 50 * 60 * s;
    let old = good_until(old_expiry);
    // A token for scans a day back, and one still good a minute after the upload.
    let day_old_expiry = NOW_MICROS - 24 * 3600 * s + 30 * s;
    let day_old = good_until(day_old_expiry);
    let current = good_until(NOW_MICROS + 2 * ttl);
    let (accepted, refused) = sorted_out(vec![
        scan(&old, &at(old_expiry - 1), "old-in-life"),
        scan(&old, &at(old_expiry - ttl - skew), "old-earliest"),
        scan(&old, &at(old_expiry - ttl - skew - 1), "old-before-issue"),
        scan(&old, &at(old_expiry - 3600 * s), "old-an-hour-before"),
        scan(&day_old, &at(NOW_MICROS - 24 * 3600 * s), "a-day-before"),
        scan(&day_old, &at(NOW_MICROS - 24 * 3600 * s - 1), "over-a-day-before"),
        scan(&current, &at(NOW_MICROS + skew), "skew-ahead"),
        scan(&current, &at(NOW_MICROS + skew + 1), "beyond-skew-ahead"),
    ]);
    assert_eq!(accepted, ["old-in-life", "old-earliest", "a-day-before", "skew-ahead"]);
    assert_eq!(
        refused,
        [
            ("old-before-issue".to_owned(), "token_not_yet_valid".to_owned()),
            ("old-an-hour-before".to_owned(), "token_not_yet_valid".to_owned()),
            ("over-a-day-before".to_owned(), UPLOAD_TOO_LATE.to_owned()),
            ("beyond-skew-ahead".to_owned(), SCANNED_IN_FUTURE.to_owned()),
        ]
    );
}

#[test]
fn a_batch_refused_entirely_here_needs_no_query() {
    let action = post(&json!({ "scans": [scan(&forged(), SCANNED_AT, "a"), scan("x", SCANNED_AT, "b")] }));
    assert_eq!(action["respond"]["status"], 200);
    assert_eq!(
        body_of(&action["respond"]),
        json!({ "results": [
            { "status": "refused", "code": "invalid_signature", "nonce": "a" },
            { "status": "refused", "code": "malformed_token", "nonce": "b" },
        ], "admitted": 0, "already_admitted": 0, "refused": 2 })
    );
}

#[test]
fn the_database_must_answer_each_scan_it_was_given() {
    let action = post(&json!({ "scans": [scan(&token(1, TTL_S), SCANNED_AT, "a"), scan(&token(1, TTL_S), SCANNED_AT, "b")] }));
    let admitted = json!({ "status": "admitted", "ticket_id": TICKET, "at": SCANNED_AT, "gate": "north" });
    let answered = |results: Value| json!([{ "result": { "results": results } }]);
    for rows in [
        json!([]),
        json!([{ "result": { "status": "admitted" } }]),
        json!([{ "result": [admitted, admitted] }]),
        answered(json!([admitted])),
        answered(json!([admitted, admitted, admitted])),
        answered(json!([admitted, "admitted"])),
        answered(json!([admitted, {}])),
    ] {
        assert_eq!(completed(&action["state"], rows.clone())["status"], 500, "{rows}");
    }
    assert_eq!(completed(&action["state"], answered(json!([admitted, admitted])))["status"], 200);
}

#[test]
fn the_batch_body_is_checked() {
    let good = scan(&token(1, TTL_S), SCANNED_AT, "n");
    let with = |key: &str, value: Value| {
        let mut s = good.clone();
        s[key] = value;
        json!({ "scans": [good.clone(), s] })
    };
    let without = |key: &str| {
        let mut s = good.clone();
        s.as_object_mut().unwrap().remove(key);
        json!({ "scans": [s] })
    };
    let too_many: Vec<Value> = (0..=MAX_SCANS).map(|_| good.clone()).collect();
    let cases = [
        (json!({ "scans": [] }), "scans must hold 1 to 500 scans; it holds 0"),
        (json!({ "scans": too_many }), "scans must hold 1 to 500 scans; it holds 501"),
        (json!({ "scans": {} }), "scans must be an array of scans"),
        (json!({ "scans": [good.clone(), 1] }), "scans[1] must be an object"),
        (without("nonce"), "scans[0].nonce is required: a string of 1 to 200 characters"),
        (
            without("scanned_at"),
            "scans[0].scanned_at is required and must be an RFC 3339 timestamp",
        ),
        (
            with("scanned_at", json!("yesterday")),
            "scans[1].scanned_at is required and must be an RFC 3339 timestamp",
        ),
        (
            with("nonce", json!("n".repeat(MAX_NONCE_CHARS + 1))),
            "scans[1].nonce is required: a string of 1 to 200 characters",
        ),
        (
            with("event_id", json!(EVENT.to_ascii_uppercase().replace('-', ""))),
            "scans[1].event_id is required and must be a UUID",
        ),
        (with("token", Value::Null), "scans[1].token is required and must be a string"),
        (
            with("scannedAt", json!(SCANNED_AT)),
            "scans[1].scannedAt is not a field of a scan; send token, event_id, gate, scanned_at, nonce",
        ),
    ];
    for (body, message) in cases {
        let action = post(&body);
        assert_eq!(error(&action), (400, "invalid_body".into()));
        assert_eq!(body_of(&action["respond"])["message"], message);
    }
    // The most scans a batch may hold (refused here, to keep the test fast).
    let full: Vec<Value> = (0..MAX_SCANS).map(|_| scan("x", SCANNED_AT, "n")).collect();
    let answer = post(&json!({ "scans": full }));
    assert_eq!(body_of(&answer["respond"])["results"].as_array().unwrap().len(), MAX_SCANS);
}
