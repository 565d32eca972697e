//! `POST /functions/v1/stripe-webhook`: receives Stripe's events.
//!
//! Stripe signs every delivery: the `Stripe-Signature` header holds a Unix
//! timestamp `t` and one or more `v1` signatures, each the hex HMAC-SHA256 of
//! `"{t}.{raw body}"` under the endpoint's signing secret. The handler checks
//! that over the exact bytes received (any re-encoding would break it), then
//! hands the event to `treasury.record_stripe_event`, which records it once
//! and commits, then drives the applier with `treasury.drive_stripe_events`,
//! which applies recorded events in Stripe's order, many per transaction:
//! with no batch running it runs one (and the function calls again after it,
//! as it promised, up to [`MAX_DRIVE_ROUNDS`] calls); with one running whose
//! driver will look again it answers at once, so deliveries are answered
//! while a batch runs. A request that fails the check is answered 400 and
//! recorded through `treasury.log_webhook_rejection`.
//!
//! Stripe retries every answer but a 2xx for three days, so an event we could
//! not record must never be answered 2xx, and a verified one that is recorded
//! (or a duplicate) always is: the 2xx says the event is stored, not that it
//! was applied. A batch that fails changes no answer: the event stays
//! recorded, and the next delivery's batch or the pg_cron job applies it.
//!
//! A verified body that can never be recorded (not JSON, not an event, an id
//! longer than the events table keeps, an event of the other Stripe mode) is
//! answered 400 and recorded as a rejection too: a 5xx would have Stripe send
//! it again for three days to no end.
//!
//! Postgres' `jsonb` refuses U+0000 in text, so every U+0000 in the event's
//! strings and keys is replaced with U+FFFD before it is handed to SQL. Stripe's
//! ids never contain it, so matching is unaffected, and only free text a person
//! typed (a description, metadata) can lose that character.
//!
//! Stripe's signature, not a Supabase token, says who is calling: both
//! statements run as `service_role`, with the claims `{"role":"service_role"}`.

use crate::db::{self, DbError, Session};
use crate::http::{self, Action, Request, Response};
use crate::{Context, Env};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// How far the signature's timestamp may be from our clock, either way,
/// unless `STRIPE_WEBHOOK_TOLERANCE_S` says otherwise: Stripe's own default.
pub const DEFAULT_TOLERANCE_S: i64 = 300;
/// The longest event id and type `treasury.stripe_events` keeps.
const MAX_ID_CHARS: usize = 255;
const SIGNATURE_BYTES: usize = 32;

const RECORD_SQL: &str = "select treasury.record_stripe_event($1::jsonb, $2::text) as result";
/// Batches of at most 64 events: also the backlog past which a delivery waits
/// for the running batch before it answers, which keeps the event -> ledger
/// delay about two batches (64 measured best of 32, 64 and 200 at 16 clients:
/// BENCHMARKS.md, Treasury).
const DRIVE_SQL: &str = "select treasury.drive_stripe_events(64, $1::boolean) as result";
/// The most calls of `treasury.drive_stripe_events` one delivery makes
/// before it answers: under a steady stream a driver hands over to a later
/// delivery long before, but one delivery must not hold its answer for long.
/// The last call promises nothing, so the batches it meets are waited for by
/// the deliveries that arrive meanwhile, never left to pg_cron.
pub const MAX_DRIVE_ROUNDS: u64 = 8;
const REJECTION_SQL: &str = "select treasury.log_webhook_rejection($1::text, $2::text, $3::jsonb, $4::text, $5::boolean)";

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "POST")?;
    http::expect_json(request)?;
    let config = Config::from_env(&ctx.env)?;
    let header = request.header("stripe-signature");
    let event =
        verify(header, request.body, &config, ctx.now_micros).and_then(|timestamp| parse_event(request.body, config.livemode, timestamp));
    let event = match event {
        Ok(event) => event,
        Err(refusal) => return Ok(log_rejection(refusal, request, ctx.now_micros)),
    };
    let event_id = event["id"].clone();
    Ok(Action::query(
        Session::service(),
        RECORD_SQL,
        vec![event, json!(hex::encode(Sha256::digest(request.body)))],
        json!({ "event_id": event_id }),
    ))
}

/// After recording: a newly recorded event drives the applier before the
/// answer; a duplicate is answered at once. After each drive: another while
/// the drive answers `"again"` (its batch applied events, which the call
/// promised to follow, or it waited for a batch), up to [`MAX_DRIVE_ROUNDS`]
/// calls; then the answer is what recording said.
/// A logged rejection is answered its 400.
pub fn complete(state: &Value, rows: &Value) -> Action {
    if let Some(rejection) = rejection_answer(state) {
        return rejection.into();
    }
    let result = rows.get(0).and_then(|row| row.get("result")).filter(|r| r.is_object());
    if let Some(recorded) = state.get("recorded") {
        let round = state["round"].as_u64().unwrap_or(MAX_DRIVE_ROUNDS);
        let again = result.is_some_and(|r| r["again"] == true);
        if again && round < MAX_DRIVE_ROUNDS {
            return drive(recorded.clone(), round + 1);
        }
        return Response::json(200, recorded).into();
    }
    match result {
        Some(result) if result["status"] == "received" => drive(result.clone(), 1),
        Some(result) => Response::json(200, result).into(),
        None => Response::internal_because("treasury.record_stripe_event answered no result object").into(),
    }
}

/// Call `round` (from 1) of `treasury.drive_stripe_events`, promising to call
/// again unless it is the last.
fn drive(recorded: Value, round: u64) -> Action {
    Action::query(
        Session::service(),
        DRIVE_SQL,
        vec![json!(round < MAX_DRIVE_ROUNDS)],
        json!({ "recorded": recorded, "round": round }),
    )
}

/// A rejection is answered 400 even when it could not be logged. A verified
/// event that was not recorded is answered 5xx whatever the error, so that
/// Stripe delivers it again; why is in the server's log, not the answer. A
/// recorded event whose drive failed is answered 200: it is stored, and the
/// next batch applies it (a later delivery's, or pg_cron's within a second).
pub fn fail(state: &Value, error: &DbError) -> Response {
    if let Some(rejection) = rejection_answer(state) {
        return rejection;
    }
    if let Some(recorded) = state.get("recorded") {
        return Response::json(200, recorded);
    }
    let response = db::error_response(error);
    if response.status >= 500 {
        return response;
    }
    Response::error(
        500,
        "event_not_applied",
        "the event was verified but could not be recorded; Stripe will retry it, and the server's log says why",
    )
}

/// The signing secrets, tolerance and Stripe mode, from the function's environment.
#[derive(Debug)]
struct Config {
    /// Every secret that is accepted: two while a secret is being rolled.
    secrets: Vec<String>,
    tolerance_s: i64,
    /// The mode of the events this deployment books: live, or test.
    livemode: bool,
}

impl Config {
    fn from_env(env: &Env) -> Result<Config, Response> {
        let secrets: Vec<String> = env
            .stripe_webhook_secret
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if secrets.is_empty() {
            return Err(not_configured(
                "STRIPE_WEBHOOK_SECRET is not set: set it to the endpoint's signing secret (whsec_...) with supabase secrets set",
            ));
        }
        let tolerance_s = match env.stripe_webhook_tolerance_s.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_TOLERANCE_S,
            Some(text) => parse_seconds(text)
                .filter(|&s| s > 0)
                .ok_or_else(|| not_configured("STRIPE_WEBHOOK_TOLERANCE_S must be a whole number of seconds, 1 or more"))?,
        };
        let livemode = env
            .livemode()
            .ok_or_else(|| not_configured("STRIPE_LIVEMODE must be true (live-mode events) or false (test mode, the default)"))?;
        Ok(Config {
            secrets,
            tolerance_s,
            livemode,
        })
    }
}

/// Why a request was refused; `timestamp` once it was read, `signed` when
/// its signature was valid (a genuine delivery, late or unusable).
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    code: &'static str,
    message: String,
    timestamp: Option<i64>,
    signed: bool,
}

/// The parts of a `Stripe-Signature` header this function reads.
#[derive(Debug, PartialEq, Eq)]
struct SignatureHeader {
    timestamp: i64,
    v1: Vec<Vec<u8>>,
}

/// Checks the signature first, then the timestamp, as Stripe's libraries do:
/// `stale_timestamp` then only ever describes a genuine, replayed delivery.
/// Answers the signed timestamp.
fn verify(header: Option<&str>, body: &[u8], config: &Config, now_micros: i64) -> Result<i64, Refusal> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| Refusal {
        code: "missing_signature",
        message: "the Stripe-Signature header is missing: only Stripe's signed deliveries are accepted".into(),
        timestamp: None,
        signed: false,
    })?;
    let signed = parse_header(header).map_err(|message| Refusal {
        code: "malformed_signature",
        message: format!("the Stripe-Signature header is not t=<unix seconds>,v1=<64 hex digits>[,v1=...]: {message}"),
        timestamp: None,
        signed: false,
    })?;
    let timestamp = Some(signed.timestamp);
    if !config.secrets.iter().any(|secret| matches(secret, &signed, body)) {
        return Err(Refusal {
            code: "signature_mismatch",
            message: "no v1 signature matches the body under the endpoint's signing secret".into(),
            timestamp,
            signed: false,
        });
    }
    let skew_micros = (i128::from(now_micros) - i128::from(signed.timestamp) * 1_000_000).abs();
    if skew_micros > i128::from(config.tolerance_s) * 1_000_000 {
        return Err(Refusal {
            code: "stale_timestamp",
            message: format!(
                "the signature's timestamp is {}s away from the server's clock; at most {}s is accepted",
                skew_micros / 1_000_000,
                config.tolerance_s
            ),
            timestamp,
            signed: true,
        });
    }
    Ok(signed.timestamp)
}

/// `t=<seconds>` exactly once, any number of `v1=<hex>`, of which at least
/// one; other schemes (`v0`, future ones) are ignored.
fn parse_header(header: &str) -> Result<SignatureHeader, String> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for item in header.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let (key, value) = item.split_once('=').ok_or_else(|| format!("\"{item}\" is not key=value"))?;
        match key.trim() {
            "t" if timestamp.is_some() => return Err("t is given more than once".into()),
            "t" => timestamp = Some(parse_seconds(value.trim()).ok_or("t is not a Unix time in seconds")?),
            "v1" => v1.push(
                hex::decode(value.trim())
                    .ok()
                    .filter(|sig| sig.len() == SIGNATURE_BYTES)
                    .ok_or("a v1 signature is not 64 hex digits")?,
            ),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("there is no t")?;
    if v1.is_empty() {
        return Err("there is no v1 signature".into());
    }
    Ok(SignatureHeader { timestamp, v1 })
}

/// Whether one of the header's v1 signatures is the body's under `secret`,
/// each compared in constant time.
fn matches(secret: &str, signed: &SignatureHeader, body: &[u8]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(signed.timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    signed.v1.iter().any(|sig| mac.clone().verify_slice(sig).is_ok())
}

/// Digits only: no sign, no spaces, no fraction.
fn parse_seconds(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The query that records a refused delivery, with what can be told of it
/// without trusting it, where it came from (the database aggregates repeats
/// by source, and a signed one by its body) and whether it was signed; its
/// answer is the 400.
fn log_rejection(refusal: Refusal, request: &Request, now_micros: i64) -> Action {
    let body = request.body;
    let event_id = serde_json::from_slice::<Map<String, Value>>(body)
        .ok()
        .and_then(|event| event.get("id").and_then(Value::as_str).map(str::to_owned))
        .filter(|id| !id.contains('\0') && id.chars().count() <= MAX_ID_CHARS);
    let detail = json!({
        "signature_header": request.header("stripe-signature").is_some(),
        "timestamp": refusal.timestamp,
        "age_s": refusal.timestamp.map(|t| now_micros.div_euclid(1_000_000).saturating_sub(t)),
        "body_bytes": body.len(),
        "body_sha256": hex::encode(Sha256::digest(body)),
        "event_id": event_id,
    });
    Action::query(
        Session::service(),
        REJECTION_SQL,
        vec![
            json!(refusal.code),
            json!(refusal.message),
            detail,
            json!(request.client_address()),
            json!(refusal.signed),
        ],
        json!({ "rejected": { "code": refusal.code, "message": refusal.message } }),
    )
}

fn rejection_answer(state: &Value) -> Option<Response> {
    let rejected = state.get("rejected")?;
    Some(Response::error(400, rejected["code"].as_str()?, rejected["message"].as_str()?))
}

/// A verified body as the event to record: an object with a string `id` and
/// `type` of 1 to 255 characters, an object `data.object` and a boolean (or
/// no) `livemode` of this deployment's mode, as every Stripe event has, with
/// U+0000 replaced. Everything `treasury.record_stripe_event` would refuse is
/// refused here, where it can be answered 400 and recorded.
fn parse_event(body: &[u8], livemode: bool, timestamp: i64) -> Result<Value, Refusal> {
    let refusal = |code: &'static str, message: String| Refusal {
        code,
        message,
        timestamp: Some(timestamp),
        signed: true,
    };
    let event: Value = serde_json::from_slice(body).map_err(|e| refusal("invalid_json", format!("the body is not valid JSON: {e}")))?;
    let text = |name: &str| {
        event
            .get(name)
            .and_then(Value::as_str)
            .is_some_and(|s| (1..=MAX_ID_CHARS).contains(&s.chars().count()))
    };
    let data_object = event.get("data").and_then(|data| data.get("object")).is_some_and(Value::is_object);
    let mode = match event.get("livemode") {
        None | Some(Value::Null) => Some(false),
        Some(mode) => mode.as_bool(),
    };
    let Some(mode) = mode.filter(|_| event.is_object() && text("id") && text("type") && data_object) else {
        return Err(refusal(
            "invalid_event",
            format!(
                "the body is not a Stripe event: it needs a string id and type of 1 to {MAX_ID_CHARS} characters, \
                 an object data.object and a boolean livemode"
            ),
        ));
    };
    if mode != livemode {
        let (is, takes) = if mode { ("live", "test") } else { ("test", "live") };
        return Err(refusal(
            "livemode_mismatch",
            format!(
                "a {is}-mode event, and this deployment books {takes}-mode events only (STRIPE_LIVEMODE): \
                 point the {is}-mode endpoint at the {is} deployment"
            ),
        ));
    }
    Ok(without_nul(event))
}

/// The value with U+0000 replaced by U+FFFD in every string and key: `jsonb`
/// refuses U+0000, and no id or amount Stripe sends contains it.
fn without_nul(value: Value) -> Value {
    let clean = |text: String| {
        if text.contains('\0') {
            text.replace('\0', "\u{fffd}")
        } else {
            text
        }
    };
    match value {
        Value::String(text) => Value::String(clean(text)),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(fields) => Value::Object(fields.into_iter().map(|(key, value)| (clean(key), without_nul(value))).collect()),
        other => other,
    }
}

fn not_configured(message: &str) -> Response {
    Response::error(500, "not_configured", message)
}

#[cfg(test)]
mod tests;
