//! The Buckets edge functions as pure request handlers.
//!
//! The Deno host (`supabase/functions/_shared/serve.ts`) does only I/O and
//! drives three exports, all JSON in and out:
//!
//! - [`handle`] gets the request and answers `{"respond":{status,headers,body}}`
//!   or `{"query":{sql,params},"state":...}`;
//! - after running the query, [`complete`] gets the state and the rows, and
//!   the same time and environment as `handle`;
//! - when the query failed, [`fail`] gets the state and `{"code","message"}`.
//!
//! Both of the last two answer `{"respond":...}`. Each function is a module
//! with its handler, listed in [`FUNCTIONS`] under its URL name.

pub mod auth;
pub mod db;
pub mod http;
pub mod passport_log;
pub mod stripe_webhook;
pub mod ticket_keys;
pub mod ticket_token;
pub mod ticket_validate;
pub mod tickets;

use db::DbError;
use http::{Action, Request, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;

/// The environment the host passes: only the variables a handler reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Env {
    #[serde(rename = "SUPABASE_JWT_SECRET")]
    pub jwt_secret: Option<String>,
    /// The Stripe webhook signing secret, or several comma-separated while one is rolled.
    #[serde(rename = "STRIPE_WEBHOOK_SECRET")]
    pub stripe_webhook_secret: Option<String>,
    /// How far a Stripe signature's timestamp may be from now, in seconds.
    #[serde(rename = "STRIPE_WEBHOOK_TOLERANCE_S")]
    pub stripe_webhook_tolerance_s: Option<String>,
    /// The Ed25519 seed that signs ticket tokens (base64url, 32 bytes).
    #[serde(rename = "TICKET_SIGNING_KEY")]
    pub ticket_signing_key: Option<String>,
}

/// What a handler knows besides the request.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Receive time, microseconds since the Unix epoch.
    pub now_micros: i64,
    pub env: Env,
}

/// An edge function: its URL name and its three steps.
pub struct Function {
    pub name: &'static str,
    pub handle: fn(&Request, &Context) -> Result<Action, Response>,
    pub complete: fn(&Value, &Value, &Context) -> Response,
    pub fail: fn(&Value, &DbError) -> Response,
}

pub static FUNCTIONS: &[Function] = &[
    Function {
        name: "passport-log",
        handle: passport_log::handle,
        complete: |state, rows, _ctx| passport_log::complete(state, rows),
        fail: |_state, error| db::error_response(error),
    },
    Function {
        name: "stripe-webhook",
        handle: stripe_webhook::handle,
        complete: |state, rows, _ctx| stripe_webhook::complete(state, rows),
        fail: stripe_webhook::fail,
    },
    Function {
        name: "ticket-token",
        handle: ticket_token::handle,
        complete: ticket_token::complete,
        fail: |_state, error| tickets::error_response(error, "ticket_not_found"),
    },
    Function {
        name: "ticket-validate",
        handle: ticket_validate::handle,
        complete: |state, rows, _ctx| ticket_validate::complete(state, rows),
        fail: |_state, error| tickets::error_response(error, "event_not_found"),
    },
    Function {
        name: "ticket-keys",
        handle: ticket_keys::handle,
        // It answers from `handle` and never queries.
        complete: |_state, _rows, _ctx| Response::internal(),
        fail: |_state, _error| Response::internal(),
    },
];

/// Runs the handler of `function` on a request.
#[wasm_bindgen]
pub fn handle(function: &str, request_json: &str, body: &[u8], now_ms: f64, env_json: &str) -> String {
    let action = find(function).and_then(|f| {
        let request = Request::from_json(request_json, body).map_err(|_| Response::internal())?;
        (f.handle)(&request, &context(now_ms, env_json)?)
    });
    action.unwrap_or_else(Action::respond).to_json()
}

/// Shapes the answer from the rows of the handler's query. `now_ms` and
/// `env_json` are those the request was handled with.
#[wasm_bindgen]
pub fn complete(function: &str, state_json: &str, rows_json: &str, now_ms: f64, env_json: &str) -> String {
    respond(find(function).and_then(|f| Ok((f.complete)(&parse(state_json)?, &parse(rows_json)?, &context(now_ms, env_json)?))))
}

/// Shapes the answer when the handler's query failed.
#[wasm_bindgen]
pub fn fail(function: &str, state_json: &str, error_json: &str) -> String {
    respond(find(function).and_then(|f| Ok((f.fail)(&parse(state_json)?, &parse(error_json)?))))
}

fn context(now_ms: f64, env_json: &str) -> Result<Context, Response> {
    Ok(Context {
        now_micros: (now_ms * 1000.0) as i64,
        env: parse(env_json)?,
    })
}

fn find(name: &str) -> Result<&'static Function, Response> {
    FUNCTIONS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| Response::error(404, "not_found", format!("there is no function named \"{name}\"")))
}

/// Host input that does not parse is a bug in the host, not the caller's.
fn parse<T: DeserializeOwned>(json: &str) -> Result<T, Response> {
    serde_json::from_str(json).map_err(|_| Response::internal())
}

fn respond(response: Result<Response, Response>) -> String {
    Action::respond(response.unwrap_or_else(|e| e)).to_json()
}
