//! The Buckets edge functions as pure request handlers.
//!
//! The Deno host (`supabase/functions/_shared/serve.ts`) does only I/O and
//! drives three exports, all JSON in and out:
//!
//! - [`handle`]`(function, request_json, body, now_ms, env_json, jwks_json)`
//!   gets the request: `request_json` is `{"method","url","headers","request_id"}`
//!   (`request_id` a UUID the host makes), `body` its raw bytes, `now_ms` the
//!   host's clock, `env_json` the variables of [`Env`], and `jwks_json`
//!   `{"jwks": <the project's JWKS {"keys":[...]}> | null, "fresh": bool}`, the
//!   host's cached copy of `${SUPABASE_URL}/auth/v1/.well-known/jwks.json`.
//!   It answers one action:
//!   - `{"respond":{"status","headers","body"}}`: send it;
//!   - `{"query":{"sql","params","role","claims"},"state":...}`: in one
//!     transaction, `select set_config('role', role, true),
//!     set_config('request.jwt.claims', claims as JSON text, true)` (and the
//!     statement timeout), then the statement with its params, as PostgREST
//!     runs a request (see [`db::Session`]); then call `complete` or `fail`;
//!   - `{"http":{"calls":[{"method","url","headers","body"}],"delay_ms"},"state":...}`:
//!     wait `delay_ms`, make the calls (concurrently, each with the host's
//!     timeout) and call `received` with one result per call, in order:
//!     `{"status","headers","body"}` (headers lowercase, body as text) or
//!     `{"error"}` when no answer came. The host follows redirects never and
//!     retries never: which answers to retry, and when, is the handler's
//!     ([`outbound`]). Secrets travel only inside these calls' headers;
//!   - `{"refresh_jwks":true}`: the token names a key the JWKS lacks. Fetch
//!     the JWKS again (rate-limited) and call `handle` again with the same
//!     request and `fresh: true`; with `jwks: null` when the fetch failed.
//! - [`complete`]`(function, state_json, rows_json, now_ms, env_json, request_id)`
//!   gets the query's state and rows (an array of row objects), with the time
//!   and environment `handle` had.
//! - [`fail`]`(function, state_json, error_json, now_ms, env_json, request_id)`
//!   gets the state and the query's error as `{"code","message","detail"}` (see
//!   [`db::DbError`]).
//! - [`received`]`(function, state_json, results_json, now_ms, env_json, request_id)`
//!   gets the state and the results of the HTTP calls.
//!
//! These three answer any action but `refresh_jwks`, so one request may be
//! several steps (a query, a call to Stripe, a query to record what Stripe
//! answered, a response); the host carries them out in turn, up to
//! [`MAX_STEPS`], and always with the `now_ms` and `env_json` the request was
//! handled with. Every response carries `x-request-id`.
//! Every response with a status of 500 or more also carries `"request_id"` in
//! its JSON body, and its action a `"log"` object for the host to print as one
//! JSON line on stderr: `{"level":"error","request_id","function","status",
//! "code","sqlstate"?,"message"}`, where, for a failed query, `sqlstate` and
//! `message` are the database's own. The client never sees the database's
//! words in a 5xx.
//!
//! Each function is a module with its handler, listed in [`FUNCTIONS`] under
//! its URL name.

pub mod auth;
pub mod billing_portal;
pub mod checkout;
pub mod db;
pub mod http;
pub mod outbound;
pub mod passport_log;
pub mod payout_account;
pub mod payout_worker;
pub mod receipts;
pub mod refund_worker;
pub mod resend;
pub mod stripe_api;
pub mod stripe_webhook;
pub mod ticket_keys;
pub mod ticket_token;
pub mod ticket_validate;
pub mod tickets;
pub mod worker;

use auth::Jwks;
use db::DbError;
use http::{Action, HttpResult, Request, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::wasm_bindgen;

/// The environment the host passes: only the variables a handler reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Env {
    /// The project's URL; set, the functions verify ES256/RS256 tokens
    /// against its JWKS, which the host fetches.
    #[serde(rename = "SUPABASE_URL")]
    pub supabase_url: Option<String>,
    /// The legacy HS256 JWT secret, under a name the platform allows.
    #[serde(rename = "JWT_SECRET")]
    pub jwt_secret: Option<String>,
    /// The same secret as the local stack and older setups name it.
    #[serde(rename = "SUPABASE_JWT_SECRET")]
    pub supabase_jwt_secret: Option<String>,
    /// Whether this deployment books Stripe's live-mode events (`true`) or
    /// its test-mode ones (`false`, the default); the other mode is refused.
    #[serde(rename = "STRIPE_LIVEMODE")]
    pub stripe_livemode: Option<String>,
    /// The Stripe webhook signing secret, or several comma-separated while one is rolled.
    #[serde(rename = "STRIPE_WEBHOOK_SECRET")]
    pub stripe_webhook_secret: Option<String>,
    /// How far a Stripe signature's timestamp may be from now, in seconds.
    #[serde(rename = "STRIPE_WEBHOOK_TOLERANCE_S")]
    pub stripe_webhook_tolerance_s: Option<String>,
    /// The Ed25519 seed that signs ticket tokens (base64url, 32 bytes).
    #[serde(rename = "TICKET_SIGNING_KEY")]
    pub ticket_signing_key: Option<String>,
    /// Stripe's secret API key (`sk_live_…`, `sk_test_…` or a restricted `rk_…`).
    #[serde(rename = "STRIPE_SECRET_KEY")]
    pub stripe_secret_key: Option<String>,
    /// Where Stripe's API is: `https://api.stripe.com` unless set (the local stand-in).
    #[serde(rename = "STRIPE_API_BASE")]
    pub stripe_api_base: Option<String>,
    /// Resend's API key (`re_…`), for the receipts.
    #[serde(rename = "RESEND_API_KEY")]
    pub resend_api_key: Option<String>,
    /// Where Resend's API is: `https://api.resend.com` unless set.
    #[serde(rename = "RESEND_API_BASE")]
    pub resend_api_base: Option<String>,
    /// The sender of the receipts, e.g. `Buckets <receipts@buckets.fm>`.
    #[serde(rename = "RECEIPTS_FROM")]
    pub receipts_from: Option<String>,
    /// The app's public URL: Checkout, the billing portal and Connect
    /// onboarding return there; receipts link there.
    #[serde(rename = "APP_URL")]
    pub app_url: Option<String>,
}

impl Env {
    /// The names of the variables above: what a host reads from its
    /// environment (and only these) into `env_json`.
    pub const NAMES: [&'static str; 13] = [
        "SUPABASE_URL",
        "JWT_SECRET",
        "SUPABASE_JWT_SECRET",
        "STRIPE_LIVEMODE",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_WEBHOOK_TOLERANCE_S",
        "TICKET_SIGNING_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_API_BASE",
        "RESEND_API_KEY",
        "RESEND_API_BASE",
        "RECEIPTS_FROM",
        "APP_URL",
    ];

    /// The legacy HS256 secret: `JWT_SECRET`, else `SUPABASE_JWT_SECRET`.
    pub fn legacy_jwt_secret(&self) -> Option<&str> {
        [&self.jwt_secret, &self.supabase_jwt_secret]
            .into_iter()
            .filter_map(|secret| secret.as_deref())
            .find(|secret| !secret.is_empty())
    }

    pub fn supabase_url(&self) -> Option<&str> {
        nonblank(&self.supabase_url)
    }

    /// `STRIPE_LIVEMODE`: `Some(true)` live, `Some(false)` test (also when
    /// unset or blank), `None` when it is neither.
    pub fn livemode(&self) -> Option<bool> {
        match self.stripe_livemode.as_deref().map(str::trim) {
            None | Some("") | Some("false") => Some(false),
            Some("true") => Some(true),
            Some(_) => None,
        }
    }

    pub fn app_url(&self) -> Option<&str> {
        nonblank(&self.app_url).map(|url| url.trim_end_matches('/'))
    }
}

/// `APP_URL` for a function that sends people (or links) back to the app,
/// or `not_configured` naming `what_returns_there`.
pub fn app_url<'a>(ctx: &'a Context, what_returns_there: &str) -> Result<&'a str, Response> {
    ctx.env
        .app_url()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| Response::not_configured(format!("APP_URL is not set to the app's http(s) URL: {what_returns_there}")))
}

/// The last value read from a text, kept with the exact text (WASM runs one
/// thread): what the host passes unchanged with every request.
pub(crate) type LastRead<T> = std::thread::LocalKey<std::cell::RefCell<Option<(String, T)>>>;

/// What `read` makes of `text`, read again only when `text` differs from the
/// text `last` holds; a failed read is not kept.
pub(crate) fn read_once<T: Clone, E>(last: &'static LastRead<T>, text: &str, read: impl FnOnce(&str) -> Result<T, E>) -> Result<T, E> {
    let kept = last.with_borrow(|last| last.as_ref().filter(|(kept, _)| kept == text).map(|(_, value)| value.clone()));
    if let Some(value) = kept {
        return Ok(value);
    }
    let value = read(text)?;
    last.set(Some((text.to_owned(), value.clone())));
    Ok(value)
}

fn nonblank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// What a handler knows besides the request.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Receive time, microseconds since the Unix epoch.
    pub now_micros: i64,
    pub env: Env,
    /// The host's JWKS; empty in `complete`, which verifies nothing.
    pub jwks: Jwks,
}

/// A request body larger than this is refused by the host with `413
/// request_too_large` before it is buffered; handlers have their own, lower
/// limits.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How many steps (queries, rounds of HTTP calls) one request may take
/// before the host gives up with a 500: a bound on a handler's loop bug.
pub const MAX_STEPS: u32 = 32;

/// What a host reads of the handlers before it serves, as JSON:
/// `{"env": Env::NAMES, "max_body_bytes": MAX_BODY_BYTES, "max_steps": MAX_STEPS}` — so the Deno
/// host (a JavaScript caller of the WASM) keeps no copies of them; the Worker reads the items directly.
#[wasm_bindgen]
pub fn host_settings() -> String {
    serde_json::json!({ "env": Env::NAMES, "max_body_bytes": MAX_BODY_BYTES, "max_steps": MAX_STEPS }).to_string()
}

/// An edge function: its URL name and its steps. `handle` ends early with
/// `Err`: an answer, or the JWKS to refresh first. `complete` gets the rows
/// of a query, `fail` its error, `received` the results of HTTP calls; each
/// answers the next action.
pub struct Function {
    pub name: &'static str,
    pub handle: fn(&Request, &Context) -> Result<Action, Action>,
    pub complete: fn(&Value, &Value, &Context) -> Action,
    pub fail: fn(&Value, &DbError, &Context) -> Action,
    pub received: fn(&Value, &[HttpResult], &Context) -> Action,
}

/// `received` of a function that never calls out.
fn never_calls(_state: &Value, _results: &[HttpResult], _ctx: &Context) -> Action {
    Response::internal_because("this function makes no HTTP calls, yet received results").into()
}

pub static FUNCTIONS: &[Function] = &[
    Function {
        name: "passport-log",
        handle: passport_log::handle,
        complete: |state, rows, _ctx| passport_log::complete(state, rows).into(),
        fail: |_state, error, _ctx| db::error_response(error).into(),
        received: never_calls,
    },
    Function {
        name: "stripe-webhook",
        handle: stripe_webhook::handle,
        complete: |state, rows, _ctx| stripe_webhook::complete(state, rows),
        fail: |state, error, _ctx| stripe_webhook::fail(state, error).into(),
        received: never_calls,
    },
    Function {
        name: "ticket-token",
        handle: ticket_token::handle,
        complete: |state, rows, ctx| ticket_token::complete(state, rows, ctx).into(),
        fail: |_state, error, _ctx| tickets::error_response(error, "ticket_not_found").into(),
        received: never_calls,
    },
    Function {
        name: "ticket-validate",
        handle: ticket_validate::handle,
        complete: |state, rows, _ctx| ticket_validate::complete(state, rows).into(),
        fail: |_state, error, _ctx| tickets::error_response(error, "event_not_found").into(),
        received: never_calls,
    },
    Function {
        name: "checkout",
        handle: checkout::handle,
        complete: checkout::complete,
        fail: checkout::fail,
        received: checkout::received,
    },
    Function {
        name: "billing-portal",
        handle: billing_portal::handle,
        complete: billing_portal::complete,
        fail: billing_portal::fail,
        received: billing_portal::received,
    },
    Function {
        name: "payout-account",
        handle: payout_account::handle,
        complete: payout_account::complete,
        fail: payout_account::fail,
        received: payout_account::received,
    },
    Function {
        name: "payout-worker",
        handle: payout_worker::handle,
        complete: payout_worker::complete,
        fail: payout_worker::fail,
        received: payout_worker::received,
    },
    Function {
        name: "refund-worker",
        handle: refund_worker::handle,
        complete: refund_worker::complete,
        fail: refund_worker::fail,
        received: refund_worker::received,
    },
    Function {
        name: "receipts-sender",
        handle: receipts::handle,
        complete: receipts::complete,
        fail: receipts::fail,
        received: receipts::received,
    },
    Function {
        name: "ticket-keys",
        handle: ticket_keys::handle,
        // It answers from `handle` and never queries.
        complete: |_state, _rows, _ctx| Response::internal_because("ticket-keys never queries").into(),
        fail: |_state, _error, _ctx| Response::internal_because("ticket-keys never queries").into(),
        received: never_calls,
    },
];

/// Runs the handler of `function` on a request.
#[wasm_bindgen]
pub fn handle(function: &str, request_json: &str, body: &[u8], now_ms: f64, env_json: &str, jwks_json: &str) -> String {
    let request = Request::from_json(request_json, body);
    let request_id = request.as_ref().map_or("", |r| r.request_id.as_str());
    let action = find(function).map_err(Action::from).and_then(|f| {
        let request = request
            .as_ref()
            .map_err(|e| Response::internal_because(format!("the host's request_json does not parse: {e}")))?;
        let jwks =
            Jwks::from_host(jwks_json).map_err(|e| Response::internal_because(format!("the host's jwks_json does not parse: {e}")))?;
        let ctx = Context {
            jwks,
            ..context(now_ms, env_json)?
        };
        (f.handle)(request, &ctx)
    });
    finish(action.unwrap_or_else(|a| a), function, request_id, None)
}

/// The next step after the handler's query: its rows in `rows_json`.
/// `now_ms` and `env_json` are those the request was handled with.
#[wasm_bindgen]
pub fn complete(function: &str, state_json: &str, rows_json: &str, now_ms: f64, env_json: &str, request_id: &str) -> String {
    let action = find(function).and_then(|f| {
        Ok((f.complete)(
            &parse(state_json, "state_json")?,
            &parse(rows_json, "rows_json")?,
            &context(now_ms, env_json)?,
        ))
    });
    finish(action.unwrap_or_else(Action::from), function, request_id, None)
}

/// The next step after the handler's query failed: its error in `error_json`.
#[wasm_bindgen]
pub fn fail(function: &str, state_json: &str, error_json: &str, now_ms: f64, env_json: &str, request_id: &str) -> String {
    let error = parse::<DbError>(error_json, "error_json");
    let action = find(function).and_then(|f| {
        Ok((f.fail)(
            &parse(state_json, "state_json")?,
            error.as_ref().map_err(Clone::clone)?,
            &context(now_ms, env_json)?,
        ))
    });
    finish(action.unwrap_or_else(Action::from), function, request_id, error.ok().as_ref())
}

/// The next step after the handler's HTTP calls: one result per call in
/// `results_json`.
#[wasm_bindgen]
pub fn received(function: &str, state_json: &str, results_json: &str, now_ms: f64, env_json: &str, request_id: &str) -> String {
    let action = find(function).and_then(|f| {
        let results: Vec<HttpResult> = parse(results_json, "results_json")?;
        Ok((f.received)(
            &parse(state_json, "state_json")?,
            &results,
            &context(now_ms, env_json)?,
        ))
    });
    finish(action.unwrap_or_else(Action::from), function, request_id, None)
}

fn context(now_ms: f64, env_json: &str) -> Result<Context, Response> {
    Ok(Context {
        now_micros: (now_ms * 1000.0) as i64,
        env: parse(env_json, "env_json")?,
        jwks: Jwks::default(),
    })
}

fn find(name: &str) -> Result<&'static Function, Response> {
    FUNCTIONS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| Response::error(404, "not_found", format!("there is no function named \"{name}\"")))
}

/// Host input that does not parse is a bug in the host, not the caller's.
fn parse<T: DeserializeOwned>(json: &str, what: &str) -> Result<T, Response> {
    serde_json::from_str(json).map_err(|e| Response::internal_because(format!("the host's {what} does not parse: {e}")))
}

/// The action as the host reads it. Responses get the request id; those of
/// 500 and more also in the body, and the log line that says what happened:
/// the database's own SQLSTATE and message when a query failed (`db_error`).
fn finish(action: Action, function: &str, request_id: &str, db_error: Option<&DbError>) -> String {
    let Action::Respond(mut response) = action else {
        return action.to_json();
    };
    if !request_id.is_empty() {
        response = response
            .with_header("x-request-id", request_id)
            .with_header("access-control-expose-headers", "x-request-id");
    }
    if response.status < 500 {
        return json!({ "respond": response }).to_string();
    }
    let mut body = serde_json::from_str::<Map<String, Value>>(&response.body).unwrap_or_default();
    let mut log = json!({
        "level": "error",
        "request_id": request_id,
        "function": function,
        "status": response.status,
        "code": body.get("code").cloned().unwrap_or(Value::Null),
    });
    let db_message = db_error.and_then(|e| e.message.clone());
    if let Some(sqlstate) = db_error.and_then(|e| e.code.clone()) {
        log["sqlstate"] = json!(sqlstate);
    }
    log["message"] = json!(response
        .log_message
        .clone()
        .or(db_message)
        .or_else(|| body.get("message").and_then(Value::as_str).map(str::to_owned)));
    if !body.is_empty() {
        body.insert("request_id".into(), json!(request_id));
        response.body = Value::Object(body).to_string();
    }
    json!({ "respond": response, "log": log }).to_string()
}

#[cfg(test)]
pub(crate) mod tests;
