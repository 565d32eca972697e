//! Calls to the services we pay and mail through (Stripe, Resend), with the
//! rules of a good API client kept here, in Rust: which answers are retried,
//! after how long, how often, and what an error means. The host only makes
//! the calls ([`Action::Http`]).
//!
//! A handler starts a batch with [`start`] (the calls, without secrets, and
//! its own state) and, in its `received`, hands the host's results to
//! [`settle`], which either answers the next round of the batch (the calls
//! still to retry, after a backoff) or gives back one result per call and the
//! handler's own state:
//!
//! ```text
//! handle ─► start([calls], mine) ─► host calls ─► received ─► settle
//!                                         ▲                     │
//!                                         └── Again(retry) ◄────┤
//!                                              Done(results, mine)
//! ```
//!
//! Retried, like Stripe's own libraries do it: no answer at all (a network
//! error or the host's timeout), `409` (an idempotent request still in
//! flight), `429`, and `5xx`; and whatever `Stripe-Should-Retry` says,
//! which overrides the status. Each call is made at most [`MAX_ATTEMPTS`]
//! times; the waits double from [`FIRST_BACKOFF_MS`] up to [`MAX_BACKOFF_MS`]
//! (a `Retry-After` in seconds is honoured up to that), less a jitter of up
//! to a quarter so that instances do not retry in step. Every `POST` carries
//! its `Idempotency-Key`, so a retried call, or a whole request repeated after
//! a crash, is done by the service once.
//!
//! The secrets (`STRIPE_SECRET_KEY`, `RESEND_API_KEY`) are read from the
//! environment when each round is built and put only in the calls' headers:
//! the state the host carries between steps never holds them.

use crate::http::{Action, HttpResult, Outbound, Response};
use crate::Context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 4;
pub const FIRST_BACKOFF_MS: u64 = 500;
pub const MAX_BACKOFF_MS: u64 = 4_000;
const USER_AGENT: &str = concat!("buckets-edge/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Stripe,
    Resend,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Stripe => "Stripe",
            Service::Resend => "Resend",
        }
    }

    /// The API's base URL and key from the environment, or why not.
    fn endpoint(self, ctx: &Context) -> Result<(String, String), String> {
        let env = &ctx.env;
        let (base, default_base, key, key_name, prefixes): (_, _, _, _, &[&str]) = match self {
            Service::Stripe => (
                &env.stripe_api_base,
                crate::stripe_api::DEFAULT_BASE,
                &env.stripe_secret_key,
                "STRIPE_SECRET_KEY",
                &["sk_", "rk_"],
            ),
            Service::Resend => (
                &env.resend_api_base,
                crate::resend::DEFAULT_BASE,
                &env.resend_api_key,
                "RESEND_API_KEY",
                &["re_"],
            ),
        };
        let key = key.as_deref().map(str::trim).unwrap_or_default();
        if key.is_empty() {
            return Err(format!("{key_name} is not set"));
        }
        if !prefixes.iter().any(|p| key.starts_with(p)) {
            return Err(format!(
                "{key_name} is not a {} API key (it starts with {})",
                self.name(),
                prefixes.join(" or ")
            ));
        }
        if self == Service::Stripe {
            check_key_mode(key, env.livemode())?;
        }
        let base = base.as_deref().map(str::trim).filter(|b| !b.is_empty()).unwrap_or(default_base);
        check_base(base).map_err(|why| format!("{}_API_BASE {why}", self.name().to_ascii_uppercase()))?;
        Ok((base.trim_end_matches('/').to_owned(), key.to_owned()))
    }
}

/// A live key takes real money, which a test-mode deployment's webhook then
/// refuses to book (`livemode_mismatch`), and a test key on a live
/// deployment takes none: the key's mode must be `STRIPE_LIVEMODE`'s.
fn check_key_mode(key: &str, livemode: Option<bool>) -> Result<(), String> {
    let live_key = key.starts_with("sk_live_") || key.starts_with("rk_live_");
    let test_key = key.starts_with("sk_test_") || key.starts_with("rk_test_");
    match livemode {
        None => Err("STRIPE_LIVEMODE must be true or false".into()),
        Some(false) if live_key => Err("STRIPE_SECRET_KEY is a live-mode key, but STRIPE_LIVEMODE is not true".into()),
        Some(true) if test_key => Err("STRIPE_SECRET_KEY is a test-mode key, but STRIPE_LIVEMODE is true".into()),
        Some(_) => Ok(()),
    }
}

/// HTTPS, or plain HTTP to this machine (the local stand-ins): a key is never
/// sent in the clear over a network.
fn check_base(base: &str) -> Result<(), &'static str> {
    if base.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = base.strip_prefix("http://") else {
        return Err("must be an https:// URL");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    match host {
        "127.0.0.1" | "localhost" | "[::1]" => Ok(()),
        _ => Err("must be an https:// URL (plain http only to 127.0.0.1 or localhost)"),
    }
}

/// Whether calls to `service` can be made: its key and base URL as
/// [`start`] will need them. For a worker that checks before it claims work.
pub fn configured(ctx: &Context, service: Service) -> Result<(), Response> {
    service.endpoint(ctx).map(drop).map_err(Response::not_configured)
}

/// One call as a handler asks for it: what to send, but no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub service: Service,
    pub method: String,
    /// From the API's root, with its query string: `/v1/checkout/sessions`.
    pub path: String,
    pub content_type: Option<String>,
    pub body: String,
    /// Sent as `Idempotency-Key`; every `POST` should have one.
    pub idempotency_key: Option<String>,
    /// Sent as `Stripe-Account`: the call acts on that connected account.
    pub account: Option<String>,
    /// Any other header the API asks for (Resend's `x-batch-validation`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl Call {
    fn outbound(&self, base: &str, key: &str) -> Outbound {
        let mut headers = BTreeMap::from([
            ("authorization".to_owned(), format!("Bearer {key}")),
            ("accept".to_owned(), "application/json".to_owned()),
            ("user-agent".to_owned(), USER_AGENT.to_owned()),
        ]);
        if self.service == Service::Stripe {
            headers.insert("stripe-version".into(), crate::stripe_api::STRIPE_VERSION.into());
        }
        let optional = [
            ("content-type", &self.content_type),
            ("idempotency-key", &self.idempotency_key),
            ("stripe-account", &self.account),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                headers.insert(name.to_owned(), value.clone());
            }
        }
        for (name, value) in &self.headers {
            headers.entry(name.to_ascii_lowercase()).or_insert_with(|| value.clone());
        }
        Outbound {
            method: self.method.clone(),
            url: format!("{base}{}", self.path),
            headers,
            body: self.body.clone(),
        }
    }
}

/// Why a call did not succeed, as the service said it (or that it said
/// nothing). Kept in the handler's state and in the log, never with a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub service: Service,
    /// The HTTP status; `None` when no answer came.
    pub status: Option<u16>,
    /// Stripe's `error.type` (`invalid_request_error`, `card_error`, …),
    /// Resend's `name`, or ours: `network`, `invalid_response`.
    pub kind: String,
    /// Stripe's `error.code` (`resource_missing`, `idempotency_error`, …).
    pub code: Option<String>,
    pub message: String,
    /// The service's id of the request (`request-id`), for its support.
    pub request_id: Option<String>,
    /// Whether it was worth retrying (no answer, 409, 429, 5xx, or
    /// `Stripe-Should-Retry: true`), and so may succeed later.
    pub retryable: bool,
}

impl ApiError {
    /// Whether trying again later may succeed: no answer, rate limits and
    /// the service's own failures (after this request's retries ran out).
    pub fn is_transient(&self) -> bool {
        self.retryable
    }

    /// A line for the log: service, status, kind, code, message, request id.
    pub fn describe(&self) -> String {
        format!(
            "{} answered {}: {}{} {}{}",
            self.service.name(),
            self.status.map_or("nothing".to_owned(), |s| s.to_string()),
            self.kind,
            self.code.as_deref().map(|c| format!("/{c}")).unwrap_or_default(),
            self.message,
            self.request_id.as_deref().map(|r| format!(" (request {r})")).unwrap_or_default()
        )
    }

    /// The answer to our caller when this error ends the request. The
    /// service's words reach the caller only for a declined card (they are
    /// written for the customer); otherwise they go to the log.
    pub fn response(&self) -> Response {
        let service = self.service.name();
        let (status, code, message) = match self.status {
            _ if self.is_transient() => {
                let code = match self.service {
                    Service::Stripe => "payments_unavailable",
                    Service::Resend => "email_unavailable",
                };
                let message = format!("{service} is unavailable or busy; retry shortly");
                return Response::error(503, code, message)
                    .with_header("retry-after", "5")
                    .with_log(self.describe());
            }
            Some(401 | 403) => (
                500,
                "not_configured",
                format!("{service} refused our credentials; the operator must fix them"),
            ),
            Some(402) if self.service == Service::Stripe => (402, "payment_declined", self.message.clone()),
            _ if self.kind == "card_error" => (402, "payment_declined", self.message.clone()),
            _ => (502, "provider_refused", format!("{service} refused the request; it was not done")),
        };
        Response::error(status, code, message).with_log(self.describe())
    }
}

/// A batch in flight, in the state the host carries between its rounds.
#[derive(Debug, Serialize, Deserialize)]
struct Batch {
    calls: Vec<Call>,
    /// One per call: `None` while it is still to be (re)tried.
    done: Vec<Option<Result<Value, ApiError>>>,
    /// Rounds made so far.
    attempt: u32,
    /// The handler's own state, handed back when the batch is done.
    next: Value,
}

const STATE_KEY: &str = "outbound";

/// Makes `calls` (concurrently); their results come to the handler's
/// `received`, which hands them to [`settle`]. `next` is the handler's own
/// state, given back by `settle` once every call is done.
pub fn start(ctx: &Context, calls: Vec<Call>, next: Value) -> Result<Action, Response> {
    let batch = Batch {
        done: vec![None; calls.len()],
        calls,
        attempt: 0,
        next,
    };
    round(ctx, batch, 0)
}

fn round(ctx: &Context, mut batch: Batch, delay_ms: u64) -> Result<Action, Response> {
    let mut outbound = Vec::new();
    for (call, done) in batch.calls.iter().zip(&batch.done) {
        if done.is_none() {
            let (base, key) = call.service.endpoint(ctx).map_err(Response::not_configured)?;
            outbound.push(call.outbound(&base, &key));
        }
    }
    batch.attempt += 1;
    let state = json!({ STATE_KEY: batch });
    Ok(Action::Http {
        calls: outbound,
        delay_ms,
        state,
    })
}

/// What [`settle`] made of a round's results.
#[derive(Debug)]
pub enum Settled {
    /// Some calls are to be tried again: answer this action.
    Again(Action),
    /// Every call is done: one result per call, in the order given to
    /// [`start`], and the handler's own state.
    Done {
        results: Vec<Result<Value, ApiError>>,
        state: Value,
    },
}

/// Reads a round's results: the successes (a 2xx with a JSON body, or an
/// empty one as `null`), the final refusals, and the calls to retry, which
/// are answered as another round after the backoff while attempts are left.
pub fn settle(state: &Value, results: &[HttpResult], ctx: &Context) -> Result<Settled, Response> {
    let mut batch: Batch = serde_json::from_value(state[STATE_KEY].clone())
        .map_err(|e| Response::internal_because(format!("the state of the HTTP calls does not parse: {e}")))?;
    let pending: Vec<usize> = (0..batch.calls.len()).filter(|&i| batch.done[i].is_none()).collect();
    if pending.len() != results.len() {
        return Err(Response::internal_because(format!(
            "the host answered {} results for {} calls",
            results.len(),
            pending.len()
        )));
    }
    let mut wait_ms = 0;
    let mut retrying = false;
    for (&i, result) in pending.iter().zip(results) {
        match classify(batch.calls[i].service, result) {
            Verdict::Done(outcome) => batch.done[i] = Some(outcome),
            Verdict::Retry(_, retry_after_ms) if batch.attempt < MAX_ATTEMPTS => {
                retrying = true;
                wait_ms = wait_ms.max(retry_after_ms.unwrap_or(0));
            }
            Verdict::Retry(error, _) => batch.done[i] = Some(Err(error)),
        }
    }
    if retrying {
        let delay = backoff(batch.attempt, ctx.now_micros).max(wait_ms.min(MAX_BACKOFF_MS));
        return round(ctx, batch, delay).map(Settled::Again);
    }
    let results = batch.done.into_iter().map(|d| d.expect("every call is done")).collect();
    Ok(Settled::Done {
        results,
        state: batch.next,
    })
}

/// A handler's `received` for a batch it started: while calls are to be
/// retried, the next round (or the host's error) is the answer; once every
/// call is done, `then` gets one result per call and the handler's state.
pub fn received_with(
    state: &Value,
    results: &[HttpResult],
    ctx: &Context,
    then: impl FnOnce(Vec<Result<Value, ApiError>>, Value) -> Result<Action, Response>,
) -> Action {
    match settle(state, results, ctx) {
        Err(response) => response.into(),
        Ok(Settled::Again(action)) => action,
        Ok(Settled::Done { results, state }) => then(results, state).unwrap_or_else(Action::from),
    }
}

/// The wait before round `attempt + 1`: `FIRST_BACKOFF_MS · 2^(attempt-1)`,
/// at most `MAX_BACKOFF_MS`, less up to a quarter of jitter.
pub fn backoff(attempt: u32, now_micros: i64) -> u64 {
    let full = FIRST_BACKOFF_MS
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF_MS);
    // The request's clock is the only entropy a pure function has; the low
    // bits of its microseconds differ between instances and requests.
    let spread = (now_micros.unsigned_abs().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 1000;
    full - full / 4 * spread / 1000
}

enum Verdict {
    Done(Result<Value, ApiError>),
    /// Worth another try, after at least this long if the service said.
    Retry(ApiError, Option<u64>),
}

fn classify(service: Service, result: &HttpResult) -> Verdict {
    let (status, headers, body) = match result {
        HttpResult::Failed { error } => {
            return Verdict::Retry(
                ApiError {
                    service,
                    status: None,
                    kind: "network".into(),
                    code: None,
                    message: error.clone(),
                    request_id: None,
                    retryable: true,
                },
                None,
            )
        }
        HttpResult::Answered { status, headers, body } => (*status, headers, body),
    };
    let request_id = headers.get("request-id").or_else(|| headers.get("x-request-id")).cloned();
    let parsed: Option<Value> = if body.trim().is_empty() {
        Some(Value::Null)
    } else {
        serde_json::from_str(body).ok()
    };
    if (200..300).contains(&status) {
        return Verdict::Done(parsed.ok_or_else(|| ApiError {
            service,
            status: Some(status),
            kind: "invalid_response".into(),
            code: None,
            message: "the answer is not JSON".into(),
            request_id,
            retryable: false,
        }));
    }
    let should_retry = match headers.get("stripe-should-retry").map(String::as_str) {
        Some("true") => true,
        Some("false") => false,
        _ => status == 409 || status == 429 || status >= 500,
    };
    let error = ApiError {
        retryable: should_retry,
        ..read_error(service, status, parsed.as_ref(), request_id)
    };
    if !should_retry {
        return Verdict::Done(Err(error));
    }
    let retry_after_ms = headers
        .get("retry-after")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| s.saturating_mul(1000));
    Verdict::Retry(error, retry_after_ms)
}

/// Stripe's `{"error":{"type","code","message"}}`, Resend's
/// `{"statusCode","name","message"}`, or whatever came.
fn read_error(service: Service, status: u16, body: Option<&Value>, request_id: Option<String>) -> ApiError {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let (kind, code, message) = match (service, body) {
        (Service::Stripe, Some(body)) if body["error"].is_object() => {
            let e = &body["error"];
            (
                text(&e["type"]),
                text(&e["code"]).or_else(|| text(&e["decline_code"])),
                text(&e["message"]),
            )
        }
        (Service::Resend, Some(body)) if body["message"].is_string() => (text(&body["name"]), None, text(&body["message"])),
        _ => (None, None, None),
    };
    ApiError {
        service,
        status: Some(status),
        kind: kind.unwrap_or_else(|| "http_error".into()),
        code,
        message: message.unwrap_or_else(|| format!("HTTP {status}")),
        request_id,
        retryable: false,
    }
}

#[cfg(test)]
pub(crate) mod tests;
