//! stripe-webhook through the host protocol, as the Deno host drives it.

use super::*;
use crate::tests::handle_as_host;

const SECRET: &str = "whsec_test_secret";
const OTHER_SECRET: &str = "whsec_another_endpoint_secret";
/// 2027-01-15T08:00:00Z, in seconds.
const NOW_S: i64 = 1_800_000_000;
/// An event and its header as Stripe's Node library signs them
/// (`stripe.webhooks.generateTestHeaderStringAsync({payload, secret: SECRET, timestamp: NOW_S})`,
/// stripe 23.1.0); the same as `openssl dgst -sha256 -hmac whsec_test_secret`.
const EVENT: &str =
    r#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}"#;
const EVENT_HEADER: &str = "t=1800000000,v1=094c2a95d8abbc9a738ac0f21ffe4c3f51c53549e13475ca98872c6cd8068895";
/// `sha256sum` of EVENT.
const EVENT_SHA256: &str = "aa9267c9c485042c1c52960a5afef43ae8c8ac1c8f8ba99197ffa27665b8a0f5";

/// The v1 signature of `body` at `t` under `secret`.
fn v1(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", v1(secret, t, body))
}

/// Calls the `handle` export at NOW_S with `env`.
fn call_with(env: Value, method: &str, headers: Value, body: &[u8]) -> Value {
    let head = json!({"method": method, "url": "http://127.0.0.1:54321/functions/v1/stripe-webhook", "headers": headers});
    handle_as_host("stripe-webhook", &head, body, (NOW_S * 1000) as f64, &env.to_string(), "{}")
}

fn deliver_with(env: Value, signature: Option<&str>, body: &[u8]) -> Value {
    let mut headers =
        json!({"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"});
    if let Some(signature) = signature {
        headers["Stripe-Signature"] = json!(signature);
    }
    call_with(env, "POST", headers, body)
}

fn env() -> Value {
    json!({ "STRIPE_WEBHOOK_SECRET": SECRET })
}

/// A delivery as Stripe makes it, with `signature` as its Stripe-Signature.
fn deliver(signature: Option<&str>, body: &[u8]) -> Value {
    deliver_with(env(), signature, body)
}

/// The event a verified delivery passes to `treasury.record_stripe_event`.
fn received(action: &Value) -> &Value {
    assert_eq!(
        action["query"]["sql"], "select treasury.record_stripe_event($1::jsonb, $2::text) as result",
        "{action}"
    );
    assert_eq!(action["query"]["params"].as_array().unwrap().len(), 2);
    &action["query"]["params"][0]
}

/// `(status, code)` of a `respond` action with an error body.
fn error(action: &Value) -> (u64, String) {
    let respond = &action["respond"];
    let body: Value = serde_json::from_str(respond["body"].as_str().unwrap()).unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(respond["headers"]["content-type"], "application/json");
    (respond["status"].as_u64().unwrap(), body["code"].as_str().unwrap().to_owned())
}

/// `(code, detail)` of a rejection being logged; checks that the query's
/// answer, whatever it is, is the 400 with that code, and that it is logged
/// as signed exactly when the signature was valid.
fn rejected(action: &Value) -> (String, Value) {
    assert_eq!(
        action["query"]["sql"], "select treasury.log_webhook_rejection($1::text, $2::text, $3::jsonb, $4::text, $5::boolean)",
        "{action}"
    );
    assert_eq!(action["query"]["role"], "service_role");
    let params = action["query"]["params"].as_array().unwrap();
    let code = params[0].as_str().unwrap().to_owned();
    assert!(params[1].as_str().is_some_and(|m| !m.is_empty()));
    let unsigned = ["missing_signature", "malformed_signature", "signature_mismatch"].contains(&code.as_str());
    assert_eq!(
        params[4],
        json!(!unsigned),
        "{code} is logged as signed only after a valid signature"
    );
    let state = action["state"].to_string();
    for answer in [
        crate::complete("stripe-webhook", &state, r#"[{"log_webhook_rejection":null}]"#, 0.0, "{}", "r-1"),
        crate::complete("stripe-webhook", &state, "[]", 0.0, "{}", "r-1"),
        crate::fail(
            "stripe-webhook",
            &state,
            r#"{"code":"42883","message":"function does not exist"}"#,
            0.0,
            "{}",
            "r-1",
        ),
        crate::fail("stripe-webhook", &state, r#"{"code":"CONNECTION_CLOSED"}"#, 0.0, "{}", "r-1"),
    ] {
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(error(&answer), (400, code.clone()), "{answer}");
        let body: Value = serde_json::from_str(answer["respond"]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["message"], params[1]);
    }
    (code, params[2].clone())
}

fn rejection_code(action: &Value) -> String {
    rejected(action).0
}

#[test]
fn a_delivery_signed_by_stripes_library_is_received() {
    let action = deliver(Some(EVENT_HEADER), EVENT.as_bytes());
    assert_eq!(received(&action), &serde_json::from_str::<Value>(EVENT).unwrap());
    assert_eq!(action["query"]["params"][1], EVENT_SHA256, "the hash of the body as signed is kept");
    assert_eq!(action["state"], json!({"event_id": "evt_1"}));
    assert_eq!(action["query"]["role"], "service_role");
    assert_eq!(action["query"]["claims"], json!({"role": "service_role"}));
}

#[test]
fn a_supabase_token_is_neither_needed_nor_read() {
    let mut headers = json!({"Content-Type": "application/json", "Stripe-Signature": EVENT_HEADER});
    headers["Authorization"] = json!("Bearer not-a-jwt");
    let action = call_with(env(), "POST", headers, EVENT.as_bytes());
    assert_eq!(received(&action)["id"], "evt_1");
}

#[test]
fn the_signature_covers_the_exact_bytes() {
    // Whitespace, key order and non-ASCII text as sent: the same JSON re-encoded does not verify.
    let pretty = "{\n  \"type\": \"charge.refunded\",\n  \"id\": \"evt_2\",\n  \"data\": {\"object\": {\"description\": \"Caf\u{e9} \u{1f3b5}\"}}\n}\n";
    let signature = header(SECRET, NOW_S, pretty.as_bytes());
    let action = deliver(Some(&signature), pretty.as_bytes());
    assert_eq!(received(&action)["data"]["object"]["description"], "Caf\u{e9} \u{1f3b5}");
    let compact = serde_json::from_str::<Value>(pretty).unwrap().to_string();
    assert_eq!(rejection_code(&deliver(Some(&signature), compact.as_bytes())), "signature_mismatch");
    // Stripe's library signs the UTF-8 bytes, not UTF-16 units or an escaped form.
    let utf8 = r#"{"é":"ü"}"#;
    let from_library = "t=1800000000,v1=a122fc33d73e83d914eb37618545d287cfe9ea69032a60bc3fd38978aae6c3df";
    assert_eq!(rejection_code(&deliver(Some(from_library), utf8.as_bytes())), "invalid_event");
}

#[test]
fn a_wrong_secret_is_a_mismatch_and_is_logged() {
    let signature = header(OTHER_SECRET, NOW_S - 7, EVENT.as_bytes());
    let (code, detail) = rejected(&deliver(Some(&signature), EVENT.as_bytes()));
    assert_eq!(code, "signature_mismatch");
    assert_eq!(
        detail,
        json!({
            "signature_header": true,
            "timestamp": NOW_S - 7,
            "age_s": 7,
            "body_bytes": EVENT.len(),
            "body_sha256": EVENT_SHA256,
            "event_id": "evt_1",
        })
    );
}

#[test]
fn a_tampered_body_is_a_mismatch() {
    let tampered = EVENT.replace("pi_1", "pi_2");
    assert_eq!(
        rejection_code(&deliver(Some(EVENT_HEADER), tampered.as_bytes())),
        "signature_mismatch"
    );
    let appended = format!("{EVENT} ");
    assert_eq!(
        rejection_code(&deliver(Some(EVENT_HEADER), appended.as_bytes())),
        "signature_mismatch"
    );
    let other_time = EVENT_HEADER.replace("t=1800000000", "t=1800000001");
    assert_eq!(rejection_code(&deliver(Some(&other_time), EVENT.as_bytes())), "signature_mismatch");
}

#[test]
fn every_configured_secret_is_tried_while_rolling() {
    let rolling = json!({ "STRIPE_WEBHOOK_SECRET": format!(" {OTHER_SECRET} , {SECRET},") });
    let by_second = deliver_with(rolling.clone(), Some(EVENT_HEADER), EVENT.as_bytes());
    assert_eq!(received(&by_second)["id"], "evt_1");
    let by_first = header(OTHER_SECRET, NOW_S, EVENT.as_bytes());
    assert_eq!(
        received(&deliver_with(rolling.clone(), Some(&by_first), EVENT.as_bytes()))["id"],
        "evt_1"
    );
    let by_neither = header("whsec_retired", NOW_S, EVENT.as_bytes());
    let action = deliver_with(rolling, Some(&by_neither), EVENT.as_bytes());
    assert_eq!(rejection_code(&action), "signature_mismatch");
}

#[test]
fn one_matching_v1_among_several_is_enough() {
    let right = v1(SECRET, NOW_S, EVENT.as_bytes());
    let wrong = v1(OTHER_SECRET, NOW_S, EVENT.as_bytes());
    for signature in [
        format!("t={NOW_S},v1={wrong},v1={right}"),
        format!("t={NOW_S},v1={right},v1={wrong}"),
        format!("v1={wrong}, v1={right}, t={NOW_S}"),
        format!("t={NOW_S},v0={wrong},v1={right},v2=anything-at-all"),
        format!("t={NOW_S},v1={}", right.to_uppercase()),
    ] {
        assert_eq!(received(&deliver(Some(&signature), EVENT.as_bytes()))["id"], "evt_1", "{signature}");
    }
    // v0 (Stripe's test scheme) is never accepted, even when it holds the right HMAC.
    let v0_only = format!("t={NOW_S},v0={right}");
    assert_eq!(rejection_code(&deliver(Some(&v0_only), EVENT.as_bytes())), "malformed_signature");
    let all_wrong = format!("t={NOW_S},v1={wrong},v1={wrong}");
    assert_eq!(rejection_code(&deliver(Some(&all_wrong), EVENT.as_bytes())), "signature_mismatch");
}

#[test]
fn the_timestamp_must_be_within_the_tolerance_either_way() {
    let at = |t: i64| deliver(Some(&header(SECRET, t, EVENT.as_bytes())), EVENT.as_bytes());
    for t in [NOW_S - 300, NOW_S, NOW_S + 300] {
        assert_eq!(received(&at(t))["id"], "evt_1", "{t}");
    }
    for t in [NOW_S - 301, NOW_S + 301, 0, NOW_S - 86_400 * 365] {
        let (code, detail) = rejected(&at(t));
        assert_eq!(code, "stale_timestamp", "{t}");
        assert_eq!((detail["timestamp"].as_i64(), detail["age_s"].as_i64()), (Some(t), Some(NOW_S - t)));
    }
    // Far in the future, beyond what microseconds in an i64 can hold.
    let far = 999_999_999_999_999_999;
    assert_eq!(rejection_code(&at(far)), "stale_timestamp");
}

#[test]
fn the_tolerance_is_configurable() {
    let strict = json!({ "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_WEBHOOK_TOLERANCE_S": "10" });
    let at = |t: i64| deliver_with(strict.clone(), Some(&header(SECRET, t, EVENT.as_bytes())), EVENT.as_bytes());
    assert_eq!(received(&at(NOW_S - 10))["id"], "evt_1");
    assert_eq!(rejection_code(&at(NOW_S - 11)), "stale_timestamp");
    assert_eq!(rejection_code(&at(NOW_S + 11)), "stale_timestamp");
}

#[test]
fn a_stale_forgery_is_a_mismatch() {
    // The signature is checked first: stale_timestamp means a genuine, old delivery.
    let signature = header(OTHER_SECRET, NOW_S - 3600, EVENT.as_bytes());
    assert_eq!(rejection_code(&deliver(Some(&signature), EVENT.as_bytes())), "signature_mismatch");
}

#[test]
fn a_missing_signature_is_logged() {
    for signature in [None, Some(""), Some("   ")] {
        let (code, detail) = rejected(&deliver(signature, EVENT.as_bytes()));
        assert_eq!(code, "missing_signature", "{signature:?}");
        assert_eq!(detail["signature_header"], signature.is_some());
        assert_eq!((detail["timestamp"].is_null(), detail["age_s"].is_null()), (true, true));
        assert_eq!(detail["event_id"], "evt_1");
    }
}

#[test]
fn malformed_headers() {
    let sig = v1(SECRET, NOW_S, EVENT.as_bytes());
    for signature in [
        format!("v1={sig}"),
        format!("t={NOW_S}"),
        format!("t={NOW_S},v1="),
        format!("t={NOW_S},v1={}", &sig[..62]),
        format!("t={NOW_S},v1={sig}00"),
        format!("t={NOW_S},v1={}zz", &sig[..62]),
        format!("t={NOW_S},t={NOW_S},v1={sig}"),
        format!("t=,v1={sig}"),
        format!("t=1.8e9,v1={sig}"),
        format!("t=+{NOW_S},v1={sig}"),
        format!("t=-{NOW_S},v1={sig}"),
        format!("t=99999999999999999999,v1={sig}"),
        format!("t={NOW_S};v1={sig}"),
        format!("t {NOW_S},v1={sig}"),
        "sha256=abcdef".to_owned(),
        "garbage".to_owned(),
    ] {
        let (code, detail) = rejected(&deliver(Some(&signature), EVENT.as_bytes()));
        assert_eq!(code, "malformed_signature", "{signature}");
        assert_eq!(detail["signature_header"], true);
    }
}

#[test]
fn the_logged_event_id_is_only_what_can_be_stored() {
    let detail = |body: &str| rejected(&deliver(None, body.as_bytes())).1;
    assert_eq!(detail("not json")["event_id"], Value::Null);
    assert_eq!(detail(r#"{"id": 42}"#)["event_id"], Value::Null);
    assert_eq!(detail(r#"{"id": "evt_\u0000"}"#)["event_id"], Value::Null);
    let long = "e".repeat(256);
    assert_eq!(detail(&format!(r#"{{"id": "{long}"}}"#))["event_id"], Value::Null);
    let longest = "e".repeat(255);
    assert_eq!(detail(&format!(r#"{{"id": "{longest}"}}"#))["event_id"], longest);
    assert_eq!(
        detail("")["body_sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

fn signed(body: &str) -> Value {
    deliver(Some(&header(SECRET, NOW_S, body.as_bytes())), body.as_bytes())
}

#[test]
fn a_verified_body_that_is_no_event_is_refused_and_logged() {
    assert_eq!(rejection_code(&signed("{\"id\": ")), "invalid_json");
    assert_eq!(rejection_code(&signed("")), "invalid_json");
    let long_id = format!(
        r#"{{"id":"{}","type":"charge.refunded","data":{{"object":{{}}}}}}"#,
        "e".repeat(256)
    );
    let long_type = format!(r#"{{"id":"evt_1","type":"{}","data":{{"object":{{}}}}}}"#, "t".repeat(256));
    for body in [
        r#"[]"#,
        r#""evt_1""#,
        r#"{"type":"charge.refunded","data":{"object":{}}}"#,
        r#"{"id":"","type":"charge.refunded","data":{"object":{}}}"#,
        r#"{"id":7,"type":"charge.refunded","data":{"object":{}}}"#,
        r#"{"id":"evt_1","data":{"object":{}}}"#,
        r#"{"id":"evt_1","type":"charge.refunded"}"#,
        r#"{"id":"evt_1","type":"charge.refunded","data":{}}"#,
        r#"{"id":"evt_1","type":"charge.refunded","data":{"object":[]}}"#,
        r#"{"id":"evt_1","type":"charge.refunded","livemode":"no","data":{"object":{}}}"#,
        &long_id,
        &long_type,
    ] {
        let (code, detail) = rejected(&signed(body));
        assert_eq!(code, "invalid_event", "{body}");
        assert_eq!(detail["timestamp"], NOW_S, "a verified delivery's timestamp is logged");
        assert_eq!(detail["signature_header"], true);
    }
    // The longest id the events table keeps is an event; one character more is logged without it.
    let longest = format!(
        r#"{{"id":"{}","type":"charge.refunded","data":{{"object":{{}}}}}}"#,
        "e".repeat(255)
    );
    assert_eq!(received(&signed(&longest))["id"].as_str().unwrap().chars().count(), 255);
    assert_eq!(rejected(&signed(&long_id)).1["event_id"], Value::Null);
}

#[test]
fn u0000_is_replaced_in_every_string_and_key() {
    let body = r#"{"id":"evt_nul","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_1","description":"a\u0000b","metadata":{"note\u0000":"\u0000","list":["x\u0000y",1,null]}}}}"#;
    let action = signed(body);
    let event = received(&action).clone();
    assert_eq!(
        action["query"]["params"][1],
        hex::encode(Sha256::digest(body.as_bytes())),
        "the body as signed"
    );
    assert_eq!(event["id"], "evt_nul");
    assert_eq!(event["data"]["object"]["id"], "pi_1");
    assert_eq!(event["data"]["object"]["description"], "a\u{fffd}b");
    assert_eq!(
        event["data"]["object"]["metadata"],
        json!({"note\u{fffd}": "\u{fffd}", "list": ["x\u{fffd}y", 1, null]})
    );
    assert!(!event.to_string().contains("\\u0000"), "{event}");
    // Without U+0000 the event is handed on exactly as parsed.
    assert_eq!(
        received(&deliver(Some(EVENT_HEADER), EVENT.as_bytes())),
        &serde_json::from_str::<Value>(EVENT).unwrap()
    );
}

#[test]
fn an_event_of_the_other_mode_is_refused_and_logged() {
    let event = |livemode: &str| format!(r#"{{"id":"evt_m","type":"charge.refunded","livemode":{livemode},"data":{{"object":{{}}}}}}"#);
    let with = |mode: Option<&str>, body: &str| {
        let mut env = env();
        if let Some(mode) = mode {
            env["STRIPE_LIVEMODE"] = json!(mode);
        }
        deliver_with(env, Some(&header(SECRET, NOW_S, body.as_bytes())), body.as_bytes())
    };
    // Test mode by default: live events are refused, test events (and those without livemode) booked.
    let (code, detail) = rejected(&with(None, &event("true")));
    assert_eq!((code.as_str(), &detail["event_id"]), ("livemode_mismatch", &json!("evt_m")));
    assert_eq!(received(&with(None, &event("false")))["id"], "evt_m");
    assert_eq!(received(&with(Some("false"), &event("null")))["id"], "evt_m");
    assert_eq!(received(&with(Some(" "), &event("false")))["id"], "evt_m");
    // A live deployment refuses test events.
    assert_eq!(received(&with(Some("true"), &event("true")))["id"], "evt_m");
    assert_eq!(rejection_code(&with(Some("true"), &event("false"))), "livemode_mismatch");
    assert_eq!(rejection_code(&with(Some("true"), EVENT)), "livemode_mismatch");
    for bad in ["yes", "1", "TRUE"] {
        assert_eq!(error(&with(Some(bad), &event("false"))), (500, "not_configured".into()), "{bad}");
    }
}

#[test]
fn only_json_posts() {
    let get = call_with(env(), "GET", json!({"Stripe-Signature": EVENT_HEADER}), b"");
    assert_eq!(error(&get), (405, "method_not_allowed".into()));
    assert_eq!(get["respond"]["headers"]["allow"], "POST, OPTIONS");
    let preflight = call_with(env(), "OPTIONS", json!({}), b"");
    assert_eq!(preflight["respond"]["status"], 204);
    let form = json!({"Content-Type": "application/x-www-form-urlencoded", "Stripe-Signature": EVENT_HEADER});
    assert_eq!(
        error(&call_with(env(), "POST", form, EVENT.as_bytes())),
        (415, "unsupported_media_type".into())
    );
}

#[test]
fn without_a_usable_configuration_nothing_is_accepted() {
    for env in [
        json!({}),
        json!({ "STRIPE_WEBHOOK_SECRET": "" }),
        json!({ "STRIPE_WEBHOOK_SECRET": " , ," }),
        json!({ "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_WEBHOOK_TOLERANCE_S": "0" }),
        json!({ "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_WEBHOOK_TOLERANCE_S": "-5" }),
        json!({ "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_WEBHOOK_TOLERANCE_S": "5m" }),
    ] {
        let action = deliver_with(env.clone(), Some(EVENT_HEADER), EVENT.as_bytes());
        assert_eq!(error(&action), (500, "not_configured".into()), "{env}");
    }
    let blank_tolerance = json!({ "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_WEBHOOK_TOLERANCE_S": " " });
    assert_eq!(
        received(&deliver_with(blank_tolerance, Some(EVENT_HEADER), EVENT.as_bytes()))["id"],
        "evt_1"
    );
}

/// The next action after a verified event's query, through the `complete` export.
fn completed(state: &Value, rows: &str) -> Value {
    serde_json::from_str(&crate::complete("stripe-webhook", &state.to_string(), rows, 0.0, "{}", "r-1")).unwrap()
}

/// The 200 body of a `respond` action.
fn answered(action: &Value) -> Value {
    assert_eq!(action["respond"]["status"], 200, "{action}");
    assert_eq!(action["respond"]["headers"]["content-type"], "application/json");
    serde_json::from_str(action["respond"]["body"].as_str().unwrap()).unwrap()
}

fn drive_call(action: &Value, round: u64) {
    assert_eq!(
        action["query"]["sql"], "select treasury.drive_stripe_events(64, $1::boolean) as result",
        "{action}"
    );
    assert_eq!(action["query"]["role"], "service_role");
    let promise = round < super::MAX_DRIVE_ROUNDS;
    assert_eq!(
        action["query"]["params"],
        json!([promise]),
        "round {round} promises to call again: {promise}"
    );
    assert_eq!(action["state"]["round"], round, "{action}");
}

#[test]
fn a_recorded_event_drives_the_applier_then_is_answered_as_recorded() {
    let recorded = json!({"received": true, "status": "received", "event_id": "evt_1", "type": "payment_intent.succeeded"});
    let first = completed(&json!({"event_id": "evt_1"}), &json!([{ "result": recorded }]).to_string());
    drive_call(&first, 1);
    assert_eq!(first["state"]["recorded"], recorded);

    // The drive says when to call again: after a batch that applied events (the promise is kept), or after
    // waiting for one. A batch that found nothing, or one running whose driver comes back, ends it.
    let ran = json!([{ "result": {"ran": true, "again": true, "events": 3, "statuses": {"applied": 3}} }]).to_string();
    let second = completed(&first["state"], &ran);
    drive_call(&second, 2);
    let empty = json!([{ "result": {"ran": true, "again": false, "events": 0, "statuses": {}} }]).to_string();
    assert_eq!(answered(&completed(&second["state"], &empty)), recorded);
    let busy = json!([{ "result": {"ran": false, "waited": false, "again": false, "events": 0, "statuses": {}} }]).to_string();
    assert_eq!(answered(&completed(&first["state"], &busy)), recorded);
    let waited = json!([{ "result": {"ran": false, "waited": true, "again": true, "events": 0, "statuses": {}} }]).to_string();
    drive_call(&completed(&first["state"], &waited), 2);
    // "again" is the drive's word, not the caller's reading of the rest of the answer.
    let ran_unasked = json!([{ "result": {"ran": true, "again": false, "events": 3, "statuses": {"applied": 3}} }]).to_string();
    assert_eq!(answered(&completed(&first["state"], &ran_unasked)), recorded);

    // At most MAX_DRIVE_ROUNDS calls, the last promising nothing; then the answer whatever the last said.
    let mut action = first;
    for round in 2..=super::MAX_DRIVE_ROUNDS {
        action = completed(&action["state"], if round % 2 == 0 { &ran } else { &waited });
        drive_call(&action, round);
    }
    assert_eq!(answered(&completed(&action["state"], &ran)), recorded, "the last round answers");
    for rows in ["[]", r#"[{"result": null}]"#] {
        assert_eq!(
            answered(&completed(&second["state"], rows)),
            recorded,
            "a drive that answered {rows}"
        );
    }

    for error in [
        r#"{"code":"40P01","message":"deadlock detected"}"#,
        r#"{"code":"CONNECTION_CLOSED"}"#,
    ] {
        let failed = crate::fail("stripe-webhook", &second["state"].to_string(), error, 0.0, "{}", "r-1");
        assert_eq!(
            answered(&serde_json::from_str(&failed).unwrap()),
            recorded,
            "a failed drive: {error}"
        );
    }
}

#[test]
fn a_duplicate_is_answered_at_once() {
    let duplicate = json!({"received": true, "status": "duplicate", "event_id": "evt_1", "recorded_status": "applied"});
    let answer = completed(&json!({"event_id": "evt_1"}), &json!([{ "result": duplicate }]).to_string());
    assert_eq!(answered(&answer), duplicate);
    for rows in ["[]", r#"[{"result": null}]"#, r#"[{"result": "applied"}]"#, r#"[{"other": {}}]"#] {
        assert_eq!(
            error(&completed(&json!({"event_id": "evt_1"}), rows)),
            (500, "internal".into()),
            "{rows}"
        );
    }
}

#[test]
fn a_failed_event_is_never_answered_below_500() {
    let failed = |code: &str, message: &str| {
        let state = json!({"event_id": "evt_1"}).to_string();
        let error_json = json!({"code": code, "message": message}).to_string();
        let answer: Value = serde_json::from_str(&crate::fail("stripe-webhook", &state, &error_json, 0.0, "{}", "r-1")).unwrap();
        answer
    };
    for (code, message) in [
        ("22023", "charge has no payment_intent"),
        ("23505", "duplicate key"),
        ("42501", "permission denied"),
    ] {
        let answer = failed(code, message);
        assert_eq!(error(&answer), (500, "event_not_applied".into()), "{code}");
        assert!(!answer["respond"]["body"].as_str().unwrap().contains(message));
        assert_eq!(
            (&answer["log"]["sqlstate"], &answer["log"]["message"]),
            (&json!(code), &json!(message))
        );
    }
    let busy = failed("40P01", "deadlock detected");
    assert_eq!(error(&busy), (500, "internal".into()));
    let down = failed("57P01", "terminating connection");
    assert_eq!(error(&down), (503, "unavailable".into()));
    assert_eq!(down["respond"]["headers"]["retry-after"], "1");
    let internal = failed("42883", "function treasury.record_stripe_event(jsonb, text) does not exist");
    assert_eq!(error(&internal), (500, "internal".into()));
    assert!(!internal["respond"]["body"].as_str().unwrap().contains("treasury"));
}

#[test]
fn the_function_is_registered() {
    assert!(crate::FUNCTIONS.iter().any(|f| f.name == "stripe-webhook"));
}

#[test]
fn a_rejection_names_the_client_address_the_proxy_reported() {
    let probe = |headers: Value| {
        let mut all = json!({"Content-Type": "application/json"});
        all.as_object_mut().unwrap().extend(headers.as_object().unwrap().clone());
        let action = call_with(env(), "POST", all, EVENT.as_bytes());
        rejected(&action);
        action["query"]["params"][3].clone()
    };
    assert_eq!(
        probe(json!({"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})),
        json!("203.0.113.7"),
        "the first forwarded address"
    );
    assert_eq!(
        probe(json!({"X-Forwarded-For": "203.0.113.7", "CF-Connecting-IP": "198.51.100.2"})),
        json!("198.51.100.2"),
        "Cloudflare's own header first"
    );
    assert_eq!(
        probe(json!({"X-Real-IP": "2001:DB8:0::1"})),
        json!("2001:db8::1"),
        "in canonical form"
    );
    assert_eq!(
        probe(json!({"X-Forwarded-For": "::ffff:192.0.2.1"})),
        json!("192.0.2.1"),
        "an IPv4 address mapped to IPv6 is IPv4"
    );
    assert_eq!(
        probe(json!({"X-Forwarded-For": "evil; drop table"})),
        Value::Null,
        "text that is no address is none"
    );
    assert_eq!(probe(json!({})), Value::Null, "no header: none (the database says unknown)");
}
