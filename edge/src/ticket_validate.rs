//! `POST /functions/v1/ticket-validate`: checks ticket tokens at the door,
//! for the event's staff.
//!
//! Two bodies:
//!
//! - `{"token","event_id","gate"}`: one scan now. A token that is not genuine
//!   and current is answered 422 with its code; otherwise
//!   `concierto.redeem` decides (admitted, already admitted, refused) and its
//!   result is the 200 answer.
//! - `{"scans":[{"token","event_id","gate","scanned_at","nonce"}, ...]}`: what
//!   a scanner recorded offline. Each token is checked against the moment it
//!   was scanned, which must lie in the token's lifetime and at most a day
//!   before the upload (and not after it, but for a minute of clock skew);
//!   the good ones go to `concierto.upload_scans` in one call, which is
//!   idempotent by nonce and checks the time against the ticket and the
//!   event's door window. The answer has one result per scan, in order, and
//!   the count of each outcome.
//!
//! Both SQL calls run as the caller (`authenticated`, with the token's
//! claims); they refuse (42501) anyone who is not staff of the event's host.
//! A scan's `redeem` is `shared` ([`crate::http::Query`]), keyed by its
//! ticket: at a busy door the host runs the scans of concurrent requests in
//! one transaction, one commit, each as its staff member, in the order of
//! their tickets, and answers each after the commit (a failed one has each
//! run again alone). An offline batch's call runs alone.

use crate::db::Session;
use crate::http::{self, Action, Request, Response};
use crate::tickets::{self, Keys, Refusal, CLOCK_SKEW_S};
use crate::Context;
use buckets_core::passport::validate::{is_canonical_uuid, parse_rfc3339_micros};
use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Map, Value};

pub const MAX_REQUEST_BYTES: usize = 512 * 1024;
pub const MAX_SCANS: usize = 500;
pub const MAX_GATE_CHARS: usize = 100;
pub const MAX_NONCE_CHARS: usize = 200;
/// The per-scan code of an offline scan dated after its upload (by more than
/// [`CLOCK_SKEW_S`]).
pub const SCANNED_IN_FUTURE: &str = "scanned_in_future";
/// The per-scan code of an offline scan uploaded more than
/// [`MAX_UPLOAD_DELAY_S`] after it was made.
pub const UPLOAD_TOO_LATE: &str = "upload_too_late";
/// How long after a scan its upload is accepted: a door's queue is uploaded
/// the same night, once the scanner is back online (docs/concierto-tokens.md).
pub const MAX_UPLOAD_DELAY_S: i64 = 24 * 3600;

const REDEEM_SQL: &str = "select concierto.redeem($1::uuid, $2::int, $3::uuid, $4::text) as result";
const UPLOAD_SQL: &str = "select concierto.upload_scans($1::jsonb) as result";
const SCAN_FIELDS: [&str; 5] = ["token", "event_id", "gate", "scanned_at", "nonce"];

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "POST")?;
    let keys = Keys::from_env(&ctx.env)?;
    let session = tickets::user_session(request, ctx)?;
    http::expect_json(request)?;
    http::expect_body_within(request, MAX_REQUEST_BYTES)?;
    let body: Map<String, Value> =
        serde_json::from_slice(request.body).map_err(|e| bad_request(format!("the body must be a JSON object: {e}")))?;
    match body.get("scans") {
        Some(scans) if body.len() == 1 => upload(scans, &keys, session, ctx.now_micros),
        Some(_) => Err(bad_request("a batch has only the field \"scans\"")),
        None => scan_now(&body, &keys, session, ctx.now_micros),
    }
    .map_err(Action::from)
}

/// Answers the result of `redeem`, or the per-scan results of `upload_scans`
/// merged with the scans refused here.
pub fn complete(state: &Value, rows: &Value) -> Response {
    let result = rows.get(0).and_then(|row| row.get("result"));
    let answer = match state.get("scans") {
        Some(scans) => result
            .and_then(|r| r["results"].as_array())
            .and_then(|results| merge(scans, results)),
        None => result.filter(|r| r["status"].is_string()).cloned(),
    };
    answer.map_or_else(
        || Response::internal_because("the database did not answer each scan it was given"),
        |body| Response::json(200, &body),
    )
}

fn scan_now(body: &Map<String, Value>, keys: &Keys, session: Session, now_micros: i64) -> Result<Action, Response> {
    let field = |name: &str| Field {
        name: name.into(),
        value: body.get(name),
    };
    if let Some(unknown) = body.keys().find(|k| !["token", "event_id", "gate"].contains(&k.as_str())) {
        return Err(bad_request(format!(
            "{unknown} is not a field of a scan; send token, event_id and gate"
        )));
    }
    let token = field("token").string()?;
    let event_id = field("event_id").uuid()?;
    let gate = field("gate").text(MAX_GATE_CHARS)?;
    let claims = keys.verify(token, now_micros).map_err(Refusal::response)?;
    let ticket = claims.ticket_uuid();
    Ok(Action::query(
        session,
        REDEEM_SQL,
        vec![json!(ticket), json!(claims.version), json!(event_id), json!(gate)],
        json!({}),
    )
    .shared(ticket))
}

fn upload(scans: &Value, keys: &Keys, session: Session, now_micros: i64) -> Result<Action, Response> {
    let scans = scans.as_array().ok_or_else(|| bad_request("scans must be an array of scans"))?;
    if scans.is_empty() || scans.len() > MAX_SCANS {
        return Err(bad_request(format!(
            "scans must hold 1 to {MAX_SCANS} scans; it holds {}",
            scans.len()
        )));
    }
    let mut outcomes = Vec::with_capacity(scans.len());
    let mut accepted = Vec::new();
    for (i, scan) in scans.iter().enumerate() {
        let scan = OfflineScan::read(scan, i)?;
        let refusal = match scan.check(keys, now_micros) {
            Ok(accepted_scan) => {
                accepted.push(accepted_scan);
                Value::Null
            }
            Err(code) => json!(code),
        };
        outcomes.push(json!({ "nonce": scan.nonce, "refused": refusal }));
    }
    let state = json!({ "scans": outcomes });
    if accepted.is_empty() {
        let body = merge(&state["scans"], &[]).expect("every scan was refused here");
        return Ok(Action::respond(Response::json(200, &body)));
    }
    Ok(Action::query(session, UPLOAD_SQL, vec![Value::Array(accepted)], state))
}

/// The answer to a batch, shaped as `upload_scans` answers: one result per
/// scan, in order (the refusal decided here, or the next result of the
/// database, each with its scan's nonce), and how many ended each way.
/// `None` when the database did not answer one result per scan it was given.
fn merge(scans: &Value, results: &[Value]) -> Option<Value> {
    let mut from_db = results.iter();
    let mut merged = Vec::new();
    for scan in scans.as_array()? {
        let mut result = match scan["refused"].as_str() {
            Some(code) => json!({ "status": "refused", "code": code }),
            None => from_db.next().filter(|r| r["status"].is_string())?.clone(),
        };
        result["nonce"] = scan["nonce"].clone();
        merged.push(result);
    }
    if from_db.next().is_some() {
        return None;
    }
    let count = |status: &str| merged.iter().filter(|r| r["status"] == status).count();
    Some(json!({
        "admitted": count("admitted"),
        "already_admitted": count("already_admitted"),
        "refused": count("refused"),
        "results": merged,
    }))
}

/// A scan as an offline scanner uploads it, checked for shape.
struct OfflineScan<'a> {
    token: &'a str,
    event_id: &'a str,
    gate: &'a str,
    scanned_at_micros: i64,
    nonce: &'a str,
}

impl<'a> OfflineScan<'a> {
    fn read(scan: &'a Value, index: usize) -> Result<OfflineScan<'a>, Response> {
        let scan = scan
            .as_object()
            .ok_or_else(|| bad_request(format!("scans[{index}] must be an object")))?;
        if let Some(unknown) = scan.keys().find(|k| !SCAN_FIELDS.contains(&k.as_str())) {
            return Err(bad_request(format!(
                "scans[{index}].{unknown} is not a field of a scan; send {}",
                SCAN_FIELDS.join(", ")
            )));
        }
        let field = |name: &str| Field {
            name: format!("scans[{index}].{name}"),
            value: scan.get(name),
        };
        Ok(OfflineScan {
            token: field("token").string()?,
            event_id: field("event_id").uuid()?,
            gate: field("gate").text(MAX_GATE_CHARS)?,
            scanned_at_micros: field("scanned_at").timestamp()?,
            nonce: field("nonce").text(MAX_NONCE_CHARS)?,
        })
    }

    /// The scan as `upload_scans` takes it, or the code it is refused with:
    /// dated after the upload or a day before it, or a token that was not
    /// genuine and current when it was scanned. The database checks the
    /// scan's time again against the ticket and the event's door window.
    fn check(&self, keys: &Keys, now_micros: i64) -> Result<Value, &'static str> {
        if self.scanned_at_micros > now_micros + i64::from(CLOCK_SKEW_S) * 1_000_000 {
            return Err(SCANNED_IN_FUTURE);
        }
        if self.scanned_at_micros < now_micros - MAX_UPLOAD_DELAY_S * 1_000_000 {
            return Err(UPLOAD_TOO_LATE);
        }
        let claims = keys.verify(self.token, self.scanned_at_micros).map_err(Refusal::code)?;
        let scanned_at = DateTime::from_timestamp_micros(self.scanned_at_micros)
            .expect("parsed from RFC 3339")
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        Ok(json!({
            "ticket_id": claims.ticket_uuid(),
            "version": claims.version,
            "event_id": self.event_id,
            "gate": self.gate,
            "scanned_at": scanned_at,
            "nonce": self.nonce,
        }))
    }
}

/// A body field by its name in the request, for the 400 that names it.
struct Field<'a> {
    name: String,
    value: Option<&'a Value>,
}

impl<'a> Field<'a> {
    fn string(&self) -> Result<&'a str, Response> {
        self.value
            .and_then(Value::as_str)
            .ok_or_else(|| bad_request(format!("{} is required and must be a string", self.name)))
    }

    fn uuid(&self) -> Result<&'a str, Response> {
        self.value
            .and_then(Value::as_str)
            .filter(|s| is_canonical_uuid(s))
            .ok_or_else(|| bad_request(format!("{} is required and must be a UUID", self.name)))
    }

    fn text(&self, max_chars: usize) -> Result<&'a str, Response> {
        self.value
            .and_then(Value::as_str)
            .filter(|s| !s.contains('\0') && (1..=max_chars).contains(&s.chars().count()))
            .ok_or_else(|| bad_request(format!("{} is required: a string of 1 to {max_chars} characters", self.name)))
    }

    fn timestamp(&self) -> Result<i64, Response> {
        self.value
            .and_then(Value::as_str)
            .and_then(parse_rfc3339_micros)
            .ok_or_else(|| bad_request(format!("{} is required and must be an RFC 3339 timestamp", self.name)))
    }
}

fn bad_request(message: impl Into<String>) -> Response {
    Response::error(400, "invalid_body", message)
}

#[cfg(test)]
mod tests;
