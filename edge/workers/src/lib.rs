//! The Buckets edge functions served from Cloudflare Workers.
//!
//! One Worker serves every function of [`buckets_edge::FUNCTIONS`] at
//! `/functions/v1/<name>`, the path Supabase serves them at, so a client
//! changes only the origin. Like the Deno host
//! (`supabase/functions/_shared/serve.ts`) this crate does only I/O: it hands
//! the request to [`buckets_edge::handle`] and carries out the actions the
//! handler answers (the protocol is `buckets_edge`'s, in its `lib.rs`) until
//! a response:
//!
//! - `query`: over Postgres, through Hyperdrive or a TCP socket ([`db`]);
//! - `http`: with the Worker's `fetch`, concurrently, no redirect followed,
//!   each bounded by `OUTBOUND_TIMEOUT_S` ([`outbound`]);
//! - `refresh_jwks`: the project's JWKS, cached per isolate ([`keys`]).
//!
//! Secrets and variables come from the Worker's `Env` (`wrangler secret put`,
//! `[vars]`): the handler variables of [`buckets_edge::Env::NAMES`], plus the
//! host's own (`BUCKETS_DB_URL`, `OUTBOUND_TIMEOUT_S`, `JWKS_CACHE_TTL_S`).

mod cell;
mod db;
mod keys;
mod outbound;

use buckets_edge::http::Response as Answer;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use keys::KeySet;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::pin;
use std::time::Duration;
use worker::{event, AbortController, Context, Delay, Env, Headers, Request, Response, Result};

const FUNCTION_PREFIX: &str = "/functions/v1/";

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let request_id = random_uuid();
    let path = req.path();
    let Some(name) = path
        .strip_prefix(FUNCTION_PREFIX)
        .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
    else {
        return to_response(&Answer::error(
            404,
            "not_found",
            "this Worker serves edge functions only, under /functions/v1/<name>",
        ));
    };
    match serve(&mut req, &env, &name, &request_id).await {
        Ok(answer) => to_response(&answer),
        Err(e) => {
            log(json!({ "level": "error", "request_id": request_id, "function": name, "status": 500, "message": e }));
            let body = json!({
                "code": "internal",
                "message": "the function failed; retry later or contact support",
                "request_id": request_id,
            });
            to_response(&Answer::json(500, &body).with_header("x-request-id", &request_id))
        }
    }
}

/// Reads the request, runs the handler's steps, and answers what it says.
async fn serve(req: &mut Request, env: &Env, function: &str, request_id: &str) -> std::result::Result<Answer, String> {
    let Some(body) = read_body(req).await? else {
        return Ok(Answer::error(
            413,
            "request_too_large",
            format!("the request body is larger than {} bytes", buckets_edge::MAX_BODY_BYTES),
        ));
    };
    let head = json!({
        "method": req.method().to_string(),
        "url": req.url().map_err(|e| e.to_string())?.to_string(),
        "headers": req.headers().entries().map(|(n, v)| (n, Value::String(v))).collect::<Map<String, Value>>(),
        "request_id": request_id,
    })
    .to_string();
    let handler_env = handler_env(env);
    let keys = KeySet::new(variable(env, "SUPABASE_URL").as_deref(), number(env, "JWKS_CACHE_TTL_S"));
    let now = keys::now_ms();
    let mut action = parse(&buckets_edge::handle(function, &head, &body, now, &handler_env, &keys.current()))?;
    if action.get("refresh_jwks").is_some() {
        let fresh = keys.refresh().await;
        action = parse(&buckets_edge::handle(function, &head, &body, now, &handler_env, &fresh))?;
    }
    let mut database = db::Database::default();
    let outbound_timeout = Duration::from_secs_f64(number(env, "OUTBOUND_TIMEOUT_S").unwrap_or(20.0));
    for _ in 0..buckets_edge::MAX_STEPS {
        if let Some(answer) = action.get("respond") {
            if let Some(line) = action.get("log") {
                log(line.clone());
            }
            return serde_json::from_value::<Reply>(answer.clone())
                .map(Reply::into_answer)
                .map_err(|e| e.to_string());
        }
        if action.get("refresh_jwks").is_some() {
            return Err("the handler asked for fresh keys after its first step".into());
        }
        let state = action.get("state").cloned().unwrap_or(Value::Null).to_string();
        let next = if let Some(query) = action.get("query") {
            match database.run(env, query).await {
                Ok(rows) => buckets_edge::complete(function, &state, &rows, now, &handler_env, request_id),
                Err(error) => buckets_edge::fail(function, &state, &error.to_json(), now, &handler_env, request_id),
            }
        } else if let Some(http) = action.get("http") {
            if let Some(delay) = http["delay_ms"].as_u64().filter(|ms| *ms > 0) {
                keys::sleep(Duration::from_millis(delay)).await;
            }
            let calls = http["calls"].as_array().cloned().unwrap_or_default();
            let results = outbound::perform_all(&calls, outbound_timeout).await;
            buckets_edge::received(function, &state, &Value::Array(results).to_string(), now, &handler_env, request_id)
        } else {
            return Err(format!("the handler answered an unknown action: {action}"));
        };
        action = parse(&next)?;
    }
    Err(format!("the handler took more than {} steps", buckets_edge::MAX_STEPS))
}

/// The `respond` of an action, as `buckets_edge` writes it.
#[derive(serde::Deserialize)]
struct Reply {
    status: u16,
    headers: std::collections::BTreeMap<String, String>,
    body: String,
}

impl Reply {
    fn into_answer(self) -> Answer {
        let mut answer = Answer::empty(self.status);
        answer.headers = self.headers;
        answer.body = self.body;
        answer
    }
}

fn parse(action: &str) -> std::result::Result<Value, String> {
    serde_json::from_str(action).map_err(|e| format!("the handler's action does not parse: {e}"))
}

/// The body's bytes, or `None` when there are more than
/// [`buckets_edge::MAX_BODY_BYTES`] (reading stops there).
async fn read_body(req: &mut Request) -> std::result::Result<Option<Vec<u8>>, String> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.parse::<usize>().ok());
    if declared.is_some_and(|n| n > buckets_edge::MAX_BODY_BYTES) {
        return Ok(None);
    }
    if req.inner().body().is_none() {
        return Ok(Some(Vec::new()));
    }
    let mut stream = req.stream().map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        if body.len() > buckets_edge::MAX_BODY_BYTES {
            return Ok(None);
        }
    }
    Ok(Some(body))
}

/// The handler variables that are set, as `env_json`.
fn handler_env(env: &Env) -> String {
    let set: Map<String, Value> = buckets_edge::Env::NAMES
        .iter()
        .filter_map(|name| variable(env, name).map(|value| (name.to_string(), Value::String(value))))
        .collect();
    Value::Object(set).to_string()
}

/// A variable or secret of the Worker, when set and not empty.
fn variable(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty())
}

fn number(env: &Env, name: &str) -> Option<f64> {
    variable(env, name).and_then(|v| v.trim().parse().ok())
}

fn to_response(answer: &Answer) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in &answer.headers {
        headers.set(name, value)?;
    }
    let response = if answer.body.is_empty() {
        Response::empty()?
    } else {
        Response::ok(answer.body.clone())?
    };
    Ok(response.with_status(answer.status).with_headers(headers))
}

/// One JSON line on the Worker's log (`wrangler tail`, Workers Logs), as the
/// Deno host writes it.
pub(crate) fn log(fields: Value) {
    let mut line = Map::new();
    line.insert("at".into(), Value::String(chrono_now()));
    if let Value::Object(fields) = fields {
        line.extend(fields);
    }
    worker::console_error!("{}", Value::Object(line));
}

fn chrono_now() -> String {
    chrono::DateTime::from_timestamp_millis(keys::now_ms() as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn random_uuid() -> String {
    let scope: web_sys::WorkerGlobalScope = worker::wasm_bindgen::JsCast::unchecked_into(worker::js_sys::global());
    scope.crypto().map(|c| c.random_uuid()).unwrap_or_default()
}

/// `work`, or `Err` when `limit` passes first; `controller` aborts what is
/// still in flight then.
pub(crate) async fn within<T>(
    limit: Duration,
    controller: AbortController,
    work: impl Future<Output = std::result::Result<T, String>>,
) -> std::result::Result<T, String> {
    match select(pin!(work), pin!(Delay::from(limit))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(format!("no answer within {} ms", limit.as_millis()))
        }
    }
}
