//! ticket-token through the host protocol, as the Deno host drives it.

use super::*;
use crate::auth::tests::{anon_key, auth_env, host_jwks, service_key, user_claims, user_token, NOW_MICROS};
use crate::tests::handle_as_host;
use crate::tickets::tests::{keys, NOW_S, SEED, TICKET};
use crate::tickets::TTL_S;

const EVENT: &str = "e1e2e3e4-0000-4000-8000-000000000001";

fn env() -> String {
    let mut env = auth_env();
    env["TICKET_SIGNING_KEY"] = json!(SEED);
    env.to_string()
}

fn bearer(token: &str) -> Value {
    json!({ "Authorization": format!("Bearer {token}") })
}

fn call_with(method: &str, query: &str, headers: Value, env: &str) -> Value {
    let url = format!("http://127.0.0.1:54321/functions/v1/ticket-token{query}");
    let head = json!({ "method": method, "url": url, "headers": headers, "request_id": "r-1" });
    handle_as_host("ticket-token", &head, b"", NOW_MICROS as f64 / 1000.0, env, &host_jwks())
}

fn get(query: &str) -> Value {
    call_with("GET", query, bearer(&user_token()), &env())
}

fn error(action: &Value) -> (u64, String) {
    let respond = &action["respond"];
    let body: Value = serde_json::from_str(respond["body"].as_str().unwrap()).unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    (respond["status"].as_u64().unwrap(), body["code"].as_str().unwrap().to_owned())
}

fn completed(rows: Value, env: &str) -> Value {
    let state = json!({ "ticket_id": TICKET }).to_string();
    let out = crate::complete("ticket-token", &state, &rows.to_string(), NOW_MICROS as f64 / 1000.0, env, "r-1");
    serde_json::from_str::<Value>(&out).unwrap()["respond"].clone()
}

fn row(result: Value) -> Value {
    json!([{ "result": result }])
}

#[test]
fn asks_the_database_as_the_caller() {
    let action = get(&format!("?ticket={TICKET}"));
    assert_eq!(
        action["query"],
        json!({
            "sql": "select concierto.ticket_for_token($1::uuid) as result",
            "params": [TICKET],
            "role": "authenticated",
            "claims": user_claims(),
        })
    );
    assert_eq!(action["state"], json!({ "ticket_id": TICKET }));
}

#[test]
fn the_ticket_parameter() {
    let upper = get(&format!("?ticket={}", TICKET.to_ascii_uppercase()));
    assert_eq!(upper["query"]["params"][0], TICKET);
    let among_others = get(&format!("?v=2&ticket={TICKET}&x#frag"));
    assert_eq!(among_others["query"]["params"][0], TICKET);
    for bad in [
        String::new(),
        "?".into(),
        "?ticket".into(),
        "?ticket=".into(),
        "?ticket=42".into(),
        format!("?Ticket={TICKET}"),
        format!("?ticket={TICKET}&ticket={TICKET}"),
        format!("?ticket=%7B{TICKET}%7D"),
        format!("?ticket={}", TICKET.replace('-', "")),
    ] {
        assert_eq!(error(&get(&bad)), (400, "invalid_ticket".into()), "{bad}");
    }
}

#[test]
fn callers_and_methods() {
    let query = format!("?ticket={TICKET}");
    assert_eq!(error(&call_with("GET", &query, json!({}), &env())), (401, "missing_token".into()));
    assert_eq!(
        error(&call_with("GET", &query, bearer(&service_key()), &env())),
        (403, "user_token_required".into())
    );
    for anonymous in [anon_key(), "sb_publishable_x".to_owned()] {
        assert_eq!(
            error(&call_with("GET", &query, bearer(&anonymous), &env())),
            (401, "sign_in_required".into())
        );
    }
    let post = call_with("POST", &query, bearer(&user_token()), &env());
    assert_eq!(error(&post), (405, "method_not_allowed".into()));
    let preflight = call_with("OPTIONS", &query, json!({}), &env());
    assert_eq!(preflight["respond"]["status"], 204);
    assert_eq!(preflight["respond"]["headers"]["access-control-allow-methods"], "GET, OPTIONS");
}

#[test]
fn without_a_signing_key_nothing_is_asked() {
    let no_key = auth_env().to_string();
    let action = call_with("GET", &format!("?ticket={TICKET}"), bearer(&user_token()), &no_key);
    assert_eq!(error(&action), (500, "not_configured".into()));
}

#[test]
fn answers_a_signed_token_and_its_qr_code() {
    let result = json!({ "ticket_id": TICKET, "version": 3, "event_id": EVENT, "state": "valid" });
    let answer = completed(row(result), &env());
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["headers"]["cache-control"], "no-store");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    let token = body["token"].as_str().unwrap();
    let claims = keys().verify(token, NOW_MICROS).unwrap();
    assert_eq!((claims.ticket_uuid().as_str(), claims.version), (TICKET, 3));
    assert_eq!(claims.expires_s, NOW_S + TTL_S);
    assert_eq!(body["expires_at"], "2027-01-15T08:01:00Z");
    assert_eq!(body["ticket_id"], TICKET);
    assert_eq!(body["version"], 3);
    assert_eq!(body["qr_svg"], tickets::qr_svg(token));
    let good_until = i64::from(claims.expires_s) * 1_000_000;
    assert!(keys().verify(token, good_until - 1).is_ok());
    assert!(keys().verify(token, good_until).is_err());
}

#[test]
fn the_token_alone_when_the_app_draws_the_qr_code() {
    let asked = get(&format!("?ticket={TICKET}&qr=none"));
    assert_eq!(asked["state"], json!({ "ticket_id": TICKET, "qr": false }));
    let result = json!({ "ticket_id": TICKET, "version": 3, "event_id": EVENT, "state": "valid" });
    let out = crate::complete(
        "ticket-token",
        &asked["state"].to_string(),
        &row(result).to_string(),
        NOW_MICROS as f64 / 1000.0,
        &env(),
        "r-1",
    );
    let answer = serde_json::from_str::<Value>(&out).unwrap()["respond"].clone();
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert!(keys().verify(body["token"].as_str().unwrap(), NOW_MICROS).is_ok());
    assert_eq!(body.get("qr_svg"), None, "{body}");
    assert_eq!(get(&format!("?ticket={TICKET}&qr=svg"))["state"], json!({ "ticket_id": TICKET }));
    for bad in ["qr=", "qr=png", "qr=none&qr=svg", "qr"] {
        assert_eq!(error(&get(&format!("?ticket={TICKET}&{bad}"))), (400, "invalid_qr".into()), "{bad}");
    }
}

#[test]
fn a_redeemed_ticket_still_gets_a_token() {
    // The door then answers already_admitted with when and where.
    let result = json!({ "ticket_id": TICKET, "version": 1, "event_id": EVENT, "state": "redeemed" });
    assert_eq!(completed(row(result), &env())["status"], 200);
}

#[test]
fn an_unexpected_answer_is_ours() {
    let other_ticket = "00000000-0000-4000-8000-000000000000";
    for rows in [
        json!([]),
        json!([{ "result": null }]),
        row(json!({ "ticket_id": other_ticket, "version": 1 })),
        row(json!({ "ticket_id": TICKET })),
        row(json!({ "ticket_id": TICKET, "version": -1 })),
        row(json!({ "ticket_id": TICKET, "version": 4_294_967_296_u64 })),
        row(json!({ "ticket_id": TICKET, "version": "1" })),
    ] {
        assert_eq!(completed(rows.clone(), &env())["status"], 500, "{rows}");
    }
    let good = row(json!({ "ticket_id": TICKET, "version": 1 }));
    assert_eq!(completed(good, &json!({}).to_string())["status"], 500);
}

#[test]
fn database_refusals() {
    let state = json!({ "ticket_id": TICKET }).to_string();
    let answer = |code: &str| -> (u64, String) {
        let db_error = json!({ "code": code, "message": "from SQL" }).to_string();
        error(&serde_json::from_str(&crate::fail("ticket-token", &state, &db_error, 0.0, "{}", "r-1")).unwrap())
    };
    assert_eq!(answer("42501"), (403, "forbidden".into()));
    assert_eq!(answer("P0002"), (404, "ticket_not_found".into()));
    assert_eq!(answer("55000"), (409, "ticket_void".into()));
    assert_eq!(answer("22P02"), (400, "invalid_request".into()));
    assert_eq!(answer("57014"), (503, "unavailable".into()));
}
