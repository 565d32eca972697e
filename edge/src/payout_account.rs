//! `POST /functions/v1/payout-account`: onboards the signed-in payee to
//! Stripe Connect Express and answers an Account Link to Stripe's forms
//! (docs/treasury-payouts.md, "Connect onboarding").
//!
//! ```text
//! handle ─► treasury.payout_account() as the payee
//!   ─► no account yet: POST /v1/accounts (Idempotency-Key from the user id)
//!        ─► treasury.record_payout_account(acct, payee) as the service role,
//!           once Stripe's account names the payee (metadata.user_id)
//!   ─► POST /v1/account_links ─► 200 {"url", "expires_at", "account_id"}
//! ```
//!
//! The account's idempotency key is the user's, so two requests at once, or
//! one repeated after a crash before the account was recorded, make one
//! account. The body is empty or `{"country": "FR"}` (used only when the
//! account is made; Stripe takes the platform's country otherwise).

use crate::db::{DbError, Session};
use crate::http::{self, Action, HttpResult, Request, Response};
use crate::outbound::{self, ApiError};
use crate::stripe_api::{self, StripeRequest};
use crate::{tickets, Context};
use serde_json::{json, Value};

pub const MAX_REQUEST_BYTES: usize = 1024;
const ACCOUNT_SQL: &str = "select treasury.payout_account() as account";
/// Only the service role records an account: a payee who could record one
/// could name any account as the destination of their money, or take
/// another payee's before it is recorded.
const RECORD_SQL: &str = "select treasury.record_payout_account($1::text, $2::uuid) as account";
/// Where Stripe sends the payee back: done (or left), or an expired link.
pub const RETURN_PATH: &str = "/payouts/onboarding/return";
pub const REFRESH_PATH: &str = "/payouts/onboarding/refresh";

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "POST")?;
    let session = tickets::user_session(request, ctx)?;
    let country = country(request)?;
    app_url(ctx)?;
    Ok(Action::query(
        session.clone(),
        ACCOUNT_SQL,
        vec![],
        json!({ "step": "account", "session": session, "country": country, "request_id": request.request_id }),
    ))
}

/// The optional `{"country": "XX"}` of the body.
fn country(request: &Request) -> Result<Option<String>, Response> {
    http::expect_body_within(request, MAX_REQUEST_BYTES)?;
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    http::expect_json(request)?;
    let bad = || Response::error(400, "invalid_body", "send no body, or {\"country\": \"<ISO 3166-1 alpha-2 code>\"}");
    let body: serde_json::Map<String, Value> = serde_json::from_slice(request.body).map_err(|_| bad())?;
    if body.keys().any(|k| k != "country") {
        return Err(bad());
    }
    match body.get("country") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(c)) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => Ok(Some(c.to_ascii_uppercase())),
        Some(_) => Err(Response::error(
            400,
            "invalid_country",
            "country must be an ISO 3166-1 alpha-2 code such as FR",
        )),
    }
}

fn app_url(ctx: &Context) -> Result<&str, Response> {
    crate::app_url(ctx, "Connect onboarding returns there")
}

pub fn complete(state: &Value, rows: &Value, ctx: &Context) -> Action {
    next_after_query(state, rows, ctx).unwrap_or_else(Action::from)
}

fn next_after_query(state: &Value, rows: &Value, ctx: &Context) -> Result<Action, Response> {
    let account = &rows[0]["account"];
    let wallet_id = account["wallet_id"].as_str();
    let user_id = account["user_id"].as_str();
    let (Some(wallet_id), Some(user_id)) = (wallet_id, user_id) else {
        return Err(Response::internal_because("treasury.payout_account did not answer a wallet"));
    };
    match account["stripe_account_id"].as_str() {
        Some(connected) => account_link(state, connected, ctx),
        None if state["step"] == "account" => {
            // Manual payouts: the platform creates each payout (the worker), so
            // Stripe never sweeps a transfer to the bank by itself before the
            // worker's payout of it; account.updated verifies only such an account.
            let mut params = json!({
                "type": "express",
                "capabilities": { "transfers": { "requested": true } },
                "settings": { "payouts": { "schedule": { "interval": "manual" } } },
                "metadata": { "user_id": user_id, "wallet_id": wallet_id },
            });
            if let Some(country) = state["country"].as_str() {
                params["country"] = json!(country);
            }
            if let Some(email) = account["email"].as_str() {
                params["email"] = json!(email);
            }
            let create = StripeRequest::post("/v1/accounts", params, format!("buckets_connect_account_{user_id}"));
            stripe_api::call(ctx, vec![create], at_step("create", state))
        }
        None => Err(Response::internal_because("treasury.record_payout_account answered no account")),
    }
}

/// The state of the next step: its name and what a later step needs again.
fn at_step(step: &str, state: &Value) -> Value {
    let mut next: serde_json::Map<String, Value> = ["session", "country", "request_id"]
        .into_iter()
        .map(|k| (k.to_owned(), state[k].clone()))
        .collect();
    next.insert("step".into(), json!(step));
    Value::Object(next)
}

/// An Account Link is single-use and short-lived: its key is this request's,
/// so a retry within the request gets the same link and a later request a new one.
fn account_link(state: &Value, connected: &str, ctx: &Context) -> Result<Action, Response> {
    let app = app_url(ctx)?;
    let request_id = state["request_id"].as_str().unwrap_or_default();
    let link = StripeRequest::post(
        "/v1/account_links",
        json!({
            "account": connected,
            "type": "account_onboarding",
            "refresh_url": format!("{app}{REFRESH_PATH}"),
            "return_url": format!("{app}{RETURN_PATH}"),
        }),
        format!("buckets_account_link_{connected}_{request_id}"),
    );
    stripe_api::call(ctx, vec![link], json!({ "step": "link", "account_id": connected }))
}

pub fn received(state: &Value, results: &[HttpResult], ctx: &Context) -> Action {
    outbound::received_with(state, results, ctx, next_after_stripe)
}

fn next_after_stripe(results: Vec<Result<Value, ApiError>>, mine: Value) -> Result<Action, Response> {
    let answer = results
        .into_iter()
        .next()
        .ok_or_else(|| Response::internal_because("no result for the Stripe call"))?
        .map_err(|e| refused(&e))?;
    match mine["step"].as_str() {
        Some("create") => {
            let connected = answer["id"]
                .as_str()
                .filter(|id| id.starts_with("acct_"))
                .ok_or_else(|| Response::internal_because("Stripe answered an account without an acct_ id"))?;
            let session: Session = serde_json::from_value(mine["session"].clone())
                .map_err(|e| Response::internal_because(format!("the state's session does not parse: {e}")))?;
            let payee = session
                .user_id()
                .ok_or_else(|| Response::internal_because("the payee's session has no user"))?;
            if answer["metadata"]["user_id"].as_str() != Some(payee) {
                return Err(Response::internal_because(format!(
                    "Stripe answered account {connected} made for {}, not for {payee}",
                    answer["metadata"]["user_id"]
                )));
            }
            Ok(Action::query(
                Session::service(),
                RECORD_SQL,
                vec![json!(connected), json!(payee)],
                at_step("record", &mine),
            ))
        }
        Some("link") => {
            let (Some(url), Some(expires_at)) = (answer["url"].as_str(), answer["expires_at"].as_i64()) else {
                return Err(Response::internal_because(
                    "Stripe answered an account link without url or expires_at",
                ));
            };
            Ok(Response::json(
                200,
                &json!({ "url": url, "expires_at": expires_at, "account_id": mine["account_id"] }),
            )
            .into())
        }
        _ => Err(Response::internal_because("payout-account received results in no HTTP step")),
    }
}

/// Stripe's refusal as our answer. Two requests of one payee with other
/// details (a country) share the account's idempotency key: the later one is
/// told to try again, when it finds the account the first one made.
fn refused(error: &ApiError) -> Response {
    if error.kind == "idempotency_error" {
        return Response::error(
            409,
            "onboarding_in_progress",
            "another onboarding request of yours is being handled; retry in a moment",
        )
        .with_log(error.describe());
    }
    error.response()
}

/// A payee who already pays out to another account (55000) or an account of
/// another wallet (23505) is a conflict; the rest as every function maps it.
pub fn fail(_state: &Value, error: &DbError, _ctx: &Context) -> Action {
    let message = error.message.clone().unwrap_or_default();
    match error.code.as_deref() {
        Some("55000" | "23505") => Response::error(409, "payout_account_conflict", message).into(),
        _ => crate::db::error_response(error).into(),
    }
}

#[cfg(test)]
mod tests;
