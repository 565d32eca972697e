//! `POST /functions/v1/passport-log`: records events in the Passport log.
//!
//! The handler authenticates, checks the request as a whole (answering
//! 4xx when it cannot be read), then normalises every event on its own: a
//! bad event becomes a pre-rejected entry, never a failed request. All of
//! them go in one call to `passport.ingest`, which re-validates, stores the
//! accepted ones together, resolves duplicates and records the rejections.
//! The call is `shared` ([`crate::http::Query`]), keyed by the caller's id:
//! under load the host runs the calls of concurrent requests in one
//! transaction, each as its caller, in the order of their callers.
//!
//! `passport.ingest` runs as the caller: a user's token as `authenticated`
//! with the token's claims, the service role key as `service_role`, which may
//! log for any user. The database limits a user's requests and events
//! (`PT429`, answered `429` with `Retry-After`). Anonymous callers are
//! refused (401) after `passport.admit_anonymous` has counted the request
//! against their client address, so that one address meets a limit (429)
//! however many instances serve the function.

use crate::auth::{self, Caller};
use crate::db::Session;
use crate::http::{self, Action, Request, Response};
use crate::Context;
use buckets_core::passport::validate::{is_canonical_uuid, parse_rfc3339_micros};
use buckets_core::passport::{check_event, Rejection, RejectionCode, Source};
use chrono::{DateTime, SecondsFormat};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const MAX_REQUEST_BYTES: usize = 512 * 1024;
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
pub const MAX_BATCH_EVENTS: usize = 500;
pub const MAX_CLIENT_EVENT_ID_CHARS: usize = 200;

const INGEST_SQL: &str = "select passport.ingest($1::jsonb) as results";
const ADMIT_ANONYMOUS_SQL: &str = "select passport.admit_anonymous($1) as admitted";
const ENVELOPE_FIELDS: [&str; 8] = [
    "kind",
    "client_event_id",
    "occurred_at",
    "sent_at",
    "artist_id",
    "payload",
    "user_id",
    "source",
];
/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the instants that
/// have a four-digit RFC 3339 form Postgres reads back.
const OCCURRED_RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800_000_000..=253_402_300_799_999_999;

/// Who an event is logged by: a user for themself, or the service role for
/// anyone.
enum Author<'c> {
    User(&'c str),
    Service,
}

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "POST")?;
    let caller = auth::caller(request, ctx)?;
    let author = match &caller {
        Caller::User { id, .. } => Author::User(id),
        Caller::Service { .. } => Author::Service,
        Caller::Anon { .. } => return Ok(count_anonymous(request)),
    };
    http::expect_json(request)?;
    http::expect_body_within(request, MAX_REQUEST_BYTES)?;
    let events = split_body(request.body)?;
    let entries: Vec<Value> = events.iter().map(|raw| entry(raw, &author, ctx.now_micros)).collect();
    // A user's call writes that user's rows (entries, rate-limit buckets); the
    // service role's, which may log for anyone, go first.
    let session = Session::of(&caller);
    let lock_key = session.user_id().unwrap_or_default().to_owned();
    Ok(Action::query(session, INGEST_SQL, vec![Value::Array(entries)], json!({ "events": events.len() })).shared(lock_key))
}

/// Counts an anonymous request against its client address, as the service
/// role (the address bucket is none of the caller's business); `complete`
/// then answers 401, or `fail` 429 over the limit.
fn count_anonymous(request: &Request) -> Action {
    Action::query(
        Session::service(),
        ADMIT_ANONYMOUS_SQL,
        vec![request.client_address().map_or(Value::Null, Value::from)],
        json!({ "anonymous": auth::sent_a_key(request) }),
    )
}

/// Shapes `200 {"results":[...]}` from the one row of `passport.ingest`, or,
/// for an anonymous caller the address limit let through, the 401.
pub fn complete(state: &Value, rows: &Value) -> Response {
    if let Some(sent_a_key) = state.get("anonymous").and_then(Value::as_bool) {
        return auth::sign_in_required_for(sent_a_key);
    }
    let results = rows.get(0).and_then(|row| row.get("results")).and_then(Value::as_array);
    match results {
        Some(results) if Some(results.len() as u64) == state["events"].as_u64() => Response::json(200, &json!({ "results": results })),
        _ => Response::internal_because("passport.ingest did not answer one result per event"),
    }
}

/// The events of a body: one event object, or `{"events":[...]}`.
fn split_body(body: &[u8]) -> Result<Vec<&RawValue>, Response> {
    let text = std::str::from_utf8(body).map_err(|_| invalid_json("the body is not UTF-8".into()))?;
    let top: &RawValue = serde_json::from_str(text).map_err(|e| invalid_json(format!("the body is not valid JSON: {e}")))?;
    let shape = || bad_request("invalid_body", "send one event object or {\"events\": [...]}");
    let fields: BTreeMap<String, &RawValue> = serde_json::from_str(top.get()).map_err(|_| shape())?;
    let Some(events) = fields.get("events") else {
        return Ok(vec![top]);
    };
    if fields.len() > 1 {
        return Err(bad_request("invalid_body", "a batch object has only the field \"events\""));
    }
    let events: Vec<&RawValue> =
        serde_json::from_str(events.get()).map_err(|_| bad_request("invalid_body", "events must be an array of event objects"))?;
    match events.len() {
        0 => Err(bad_request("empty_batch", "events must hold at least one event")),
        n if n > MAX_BATCH_EVENTS => Err(bad_request(
            "batch_too_large",
            format!("events holds {n} events; send at most {MAX_BATCH_EVENTS} per request"),
        )),
        _ => Ok(events),
    }
}

/// One element of the `passport.ingest` input: a normalised event, or a
/// pre-rejected one with what is known of it.
fn entry(raw: &RawValue, author: &Author, now: i64) -> Value {
    let event: Option<Map<String, Value>> = serde_json::from_str(raw.get()).ok();
    let checked = match &event {
        _ if raw.get().len() > MAX_EVENT_BYTES => Err(reject(
            RejectionCode::EventTooLarge,
            format!("the event is larger than {MAX_EVENT_BYTES} bytes"),
        )),
        None => Err(reject(RejectionCode::InvalidEvent, "an event must be a JSON object")),
        Some(event) => normalize(event, author, now),
    };
    checked.unwrap_or_else(|rejection| rejected(event.as_ref(), author, rejection))
}

fn normalize(event: &Map<String, Value>, author: &Author, now: i64) -> Result<Value, Rejection> {
    if object_holds_nul(event) {
        return Err(reject(
            RejectionCode::InvalidEvent,
            "the event holds the character U+0000, which cannot be stored",
        ));
    }
    if let Some(key) = event
        .keys()
        .filter(|k| !ENVELOPE_FIELDS.contains(&k.as_str()))
        .min_by(|a, b| a.as_bytes().cmp(b.as_bytes()))
    {
        return Err(reject(RejectionCode::UnknownField, format!("{key} is not an event field")));
    }
    let (user_id, source) = author_of(event, author)?;
    let kind = field(event, "kind")
        .ok_or_else(|| missing("kind"))?
        .as_str()
        .ok_or_else(|| invalid("kind", "a string"))?;
    let client_event_id = field(event, "client_event_id").ok_or_else(|| missing("client_event_id"))?;
    let client_event_id = client_event_id
        .as_str()
        .filter(|id| is_client_event_id(id))
        .ok_or_else(|| invalid("client_event_id", "a string of 1 to 200 characters"))?;
    let occurred_at = occurred_at(event, now)?;
    let artist_id = field(event, "artist_id")
        .map(|v| {
            v.as_str()
                .filter(|s| is_canonical_uuid(s))
                .ok_or_else(|| invalid("artist_id", "a UUID"))
        })
        .transpose()?;
    let empty = Map::new();
    let payload = field(event, "payload")
        .map(|v| v.as_object().ok_or_else(|| invalid("payload", "a JSON object")))
        .transpose()?
        .unwrap_or(&empty);
    check_event(kind, source, artist_id.is_some(), payload, occurred_at, now)?;
    Ok(json!({
        "user_id": user_id,
        "source": source.name(),
        "kind": kind,
        "client_event_id": client_event_id,
        "occurred_at": rfc3339_micros(occurred_at),
        "artist_id": artist_id,
        "payload": payload,
    }))
}

/// The user the event is about and its source. Only the service role may
/// name them (a user always logs as themself, from the app).
fn author_of(event: &Map<String, Value>, author: &Author) -> Result<(String, Source), Rejection> {
    match author {
        Author::User(id) => match ["user_id", "source"].into_iter().find(|name| field(event, name).is_some()) {
            Some(name) => Err(reject(
                RejectionCode::ForbiddenField,
                format!("{name} may only be given by the service role"),
            )),
            None => Ok(((*id).to_owned(), Source::App)),
        },
        Author::Service => {
            let user_id =
                field(event, "user_id").ok_or_else(|| reject(RejectionCode::MissingField, "user_id is required for the service role"))?;
            let user_id = user_id
                .as_str()
                .filter(|s| is_canonical_uuid(s))
                .ok_or_else(|| invalid("user_id", "a UUID"))?;
            Ok((user_id.to_owned(), service_source(event)?))
        }
    }
}

/// The source a service-role caller names; `system` when it names none.
fn service_source(event: &Map<String, Value>) -> Result<Source, Rejection> {
    match field(event, "source") {
        None => Ok(Source::System),
        Some(v) => v.as_str().and_then(Source::parse).ok_or_else(|| invalid("source", &source_names())),
    }
}

/// When the event happened, in microseconds: `occurred_at` (default: now),
/// moved by the sender's clock error `now - sent_at` when `sent_at` is given.
fn occurred_at(event: &Map<String, Value>, now: i64) -> Result<i64, Rejection> {
    let stamp = |name: &str| {
        field(event, name)
            .map(|v| {
                v.as_str()
                    .and_then(parse_rfc3339_micros)
                    .ok_or_else(|| invalid(name, "an RFC 3339 timestamp"))
            })
            .transpose()
    };
    let occurred = stamp("occurred_at")?;
    let sent = stamp("sent_at")?;
    let at = match (occurred, sent) {
        (None, _) => now,
        (Some(occurred), None) => occurred,
        (Some(occurred), Some(sent)) => occurred.saturating_add(now.saturating_sub(sent)),
    };
    if !OCCURRED_RANGE.contains(&at) {
        return Err(invalid(
            "occurred_at",
            "between the years 0001 and 9999 (after the sent_at correction)",
        ));
    }
    Ok(at)
}

/// A pre-rejected entry, with the author, kind and client_event_id when
/// they are usable, so that the rejection record says who sent what.
fn rejected(event: Option<&Map<String, Value>>, author: &Author, rejection: Rejection) -> Value {
    let text = |name: &str| {
        event
            .and_then(|e| field(e, name))
            .and_then(Value::as_str)
            .filter(|s| is_client_event_id(s))
    };
    let mut entry = Map::new();
    entry.insert("rejected".into(), json!(rejection));
    let (user_id, source) = match author {
        Author::User(id) => (Some(*id), Some(Source::App)),
        Author::Service => (
            text("user_id").filter(|s| is_canonical_uuid(s)),
            event.and_then(|e| service_source(e).ok()),
        ),
    };
    let known = [
        ("user_id", user_id),
        ("source", source.map(Source::name)),
        ("kind", text("kind")),
        ("client_event_id", text("client_event_id")),
    ];
    for (name, value) in known {
        if let Some(value) = value {
            entry.insert(name.into(), value.into());
        }
    }
    Value::Object(entry)
}

/// An envelope field's value; JSON `null` counts as absent.
fn field<'e>(event: &'e Map<String, Value>, name: &str) -> Option<&'e Value> {
    event.get(name).filter(|v| !v.is_null())
}

fn is_client_event_id(s: &str) -> bool {
    !s.contains('\0') && (1..=MAX_CLIENT_EVENT_ID_CHARS).contains(&s.chars().count())
}

/// Postgres text cannot hold U+0000, so `jsonb` refuses it.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => object_holds_nul(map),
        _ => false,
    }
}

fn object_holds_nul(map: &Map<String, Value>) -> bool {
    map.iter().any(|(key, value)| key.contains('\0') || holds_nul(value))
}

fn rfc3339_micros(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .expect("occurred_at was range-checked")
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn source_names() -> String {
    let names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
    format!("one of {}", names.join(", "))
}

fn reject(code: RejectionCode, message: impl Into<String>) -> Rejection {
    Rejection::new(code, message)
}

fn missing(name: &str) -> Rejection {
    reject(RejectionCode::MissingField, format!("{name} is required"))
}

fn invalid(name: &str, expectation: &str) -> Rejection {
    reject(RejectionCode::InvalidField, format!("{name} must be {expectation}"))
}

fn invalid_json(message: String) -> Response {
    bad_request("invalid_json", message)
}

fn bad_request(code: &str, message: impl Into<String>) -> Response {
    Response::error(400, code, message)
}

#[cfg(test)]
mod tests;
