//! `POST /functions/v1/checkout`: a signed-in user starts paying for one item
//! (docs/treasury-checkout.md).
//!
//! ```text
//! handle ─► begin_checkout (as the user) ─► POST /v1/checkout/sessions ─► checkout_opened ─► 201
//!                                                    └─ refused ─► checkout_failed ─► 4xx/5xx
//! ```
//!
//! The database prices the item, holds what it holds (ticket seats) and
//! hands back the session's parameters; this function adds where Stripe
//! returns the buyer to (`APP_URL`) and creates the session under the
//! Idempotency-Key `buckets_checkout_<checkout id>`, so a retried request
//! (same `Idempotency-Key` header from the client) repeats the same call and
//! Stripe answers it with the session it made the first time.

use crate::auth::Caller;
use crate::db::{self, DbError, Session};
use crate::http::{self, Action, HttpResult, Request, Response};
use crate::outbound::{self, ApiError};
use crate::stripe_api::{self, StripeRequest};
use crate::{tickets, Context};
use buckets_core::passport::validate::is_canonical_uuid;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const BEGIN_SQL: &str = "select treasury.begin_checkout($1::jsonb, $2::text) as checkout";
const OPENED_SQL: &str = "select treasury.checkout_opened($1::uuid, $2::jsonb) as checkout";
const FAILED_SQL: &str = "select treasury.checkout_failed($1::uuid, $2::text) as checkout";
const MAX_BODY_BYTES: usize = 16 * 1024;
/// Items per checkout: the webhook books one product per payment.
pub const MAX_ITEMS: usize = 1;
/// Characters of a client's `Idempotency-Key` (`client_request_id`).
pub const MAX_REQUEST_ID_CHARS: usize = 200;

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "POST")?;
    let session = tickets::user_session(request, ctx)?;
    http::expect_json(request)?;
    http::expect_body_within(request, MAX_BODY_BYTES)?;
    app_url(ctx)?;
    let body: Value = serde_json::from_slice(request.body)
        .map_err(|_| Response::error(400, "invalid_json", "the body is not JSON: send {\"items\": [...]}"))?;
    let items = check_body(&body)?;
    let request_id = client_request_id(request, &body)?;
    let claims = serde_json::to_value(&session).map_err(|e| Response::internal_because(e.to_string()))?["claims"].clone();
    Ok(Action::query(
        session,
        BEGIN_SQL,
        vec![items, json!(request_id)],
        json!({ "step": "begin", "claims": claims }),
    ))
}

/// After each query: the checkout begun (then Stripe, unless its session
/// exists already), opened (answer it), or failed (answer why).
pub fn complete(state: &Value, rows: &Value, ctx: &Context) -> Action {
    let checkout = &rows[0]["checkout"];
    match state["step"].as_str() {
        Some("begin") if checkout["session"].is_object() => created(checkout).into(),
        Some("begin") => create_session(state, checkout, ctx),
        Some("opened") => created(checkout).into(),
        Some("failed") => stored_response(&state["response"]).into(),
        _ => Response::internal_because(format!("checkout has no step {}", state["step"])).into(),
    }
}

pub fn fail(_state: &Value, error: &DbError, _ctx: &Context) -> Action {
    error_response(error).into()
}

/// Stripe's answer: a session to record, a refusal to record (its seats are
/// released), or no answer after the retries: then the checkout stays as it
/// is, and the client's retry with the same `Idempotency-Key` repeats the
/// same call.
pub fn received(state: &Value, results: &[HttpResult], ctx: &Context) -> Action {
    outbound::received_with(state, results, ctx, |results, state| Ok(session_answered(results, &state)))
}

fn session_answered(results: Vec<Result<Value, ApiError>>, state: &Value) -> Action {
    let checkout_id = state["checkout_id"].clone();
    match results.into_iter().next() {
        Some(Ok(session)) => Action::query(
            user_session(state),
            OPENED_SQL,
            vec![
                checkout_id,
                json!({ "id": session["id"], "url": session["url"], "expires_at": session["expires_at"] }),
            ],
            json!({ "step": "opened" }),
        ),
        Some(Err(error)) if error.is_transient() => error.response().into(),
        Some(Err(error)) => record_failure(state, error.response()),
        None => Response::internal_because("no result for the Checkout Session call").into(),
    }
}

/// The Checkout Session request: the database's parameters, where Stripe
/// sends the buyer back to, and their e-mail when Stripe knows no customer.
pub fn session_request(checkout: &Value, claims: &Value, app_url: &str) -> Result<StripeRequest, Response> {
    let (Some(id), Some(key), Some(Value::Object(params))) = (
        checkout["checkout_id"].as_str(),
        checkout["idempotency_key"].as_str(),
        checkout.get("session_params"),
    ) else {
        return Err(Response::internal_because(
            "treasury.begin_checkout answered no checkout_id, idempotency_key and session_params",
        ));
    };
    let mut params = params.clone();
    params.insert(
        "success_url".into(),
        json!(format!(
            "{app_url}/checkout/success?checkout_id={id}&session_id={{CHECKOUT_SESSION_ID}}"
        )),
    );
    params.insert("cancel_url".into(), json!(format!("{app_url}/checkout/cancel?checkout_id={id}")));
    let email = claims["email"].as_str().filter(|e| e.contains('@'));
    if let (None, Some(email)) = (params.get("customer"), email) {
        params.insert("customer_email".into(), json!(email));
    }
    Ok(StripeRequest::post("/v1/checkout/sessions", Value::Object(params), key))
}

fn create_session(state: &Value, checkout: &Value, ctx: &Context) -> Action {
    let Ok(url) = app_url(ctx) else {
        return Response::internal_because("APP_URL was not given to complete").into();
    };
    let request = match session_request(checkout, &state["claims"], url) {
        Ok(request) => request,
        Err(response) => return response.into(),
    };
    let next = json!({ "claims": state["claims"], "checkout_id": checkout["checkout_id"] });
    match stripe_api::call(ctx, vec![request], next.clone()) {
        Ok(action) => action,
        Err(response) => record_failure(&next, response),
    }
}

/// Fails the checkout with the answer's code (its seats are released), then
/// gives that answer.
fn record_failure(state: &Value, response: Response) -> Action {
    let code = serde_json::from_str::<Value>(&response.body)
        .ok()
        .and_then(|b| b["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "internal".into());
    Action::query(
        user_session(state),
        FAILED_SQL,
        vec![state["checkout_id"].clone(), json!(code)],
        json!({ "step": "failed", "response": {
            "status": response.status, "headers": response.headers, "body": response.body, "log": response.log_message,
        } }),
    )
}

fn stored_response(stored: &Value) -> Response {
    let headers: BTreeMap<String, String> = serde_json::from_value(stored["headers"].clone()).unwrap_or_default();
    Response {
        status: stored["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
        headers,
        body: stored["body"].as_str().unwrap_or_default().to_owned(),
        log_message: stored["log"].as_str().map(str::to_owned),
    }
}

/// The user the request was handled for: the steps after the first run as
/// them too.
fn user_session(state: &Value) -> Session {
    let claims = state["claims"].clone();
    Session::of(&Caller::User {
        id: claims["sub"].as_str().unwrap_or_default().to_owned(),
        claims,
    })
}

/// `201 {"id", "url", "expires_at", "checkout_id"}`: the Checkout Session to
/// send the buyer to.
fn created(checkout: &Value) -> Response {
    let session = &checkout["session"];
    if !session["id"].is_string() || !session["url"].is_string() {
        return Response::internal_because("the checkout has no session to answer");
    }
    Response::json(
        201,
        &json!({
            "id": session["id"],
            "url": session["url"],
            "expires_at": session["expires_at"],
            "checkout_id": checkout["checkout_id"],
        }),
    )
}

/// `APP_URL`, where Stripe sends the user back to (Checkout, the billing
/// portal), or `not_configured`.
pub fn app_url(ctx: &Context) -> Result<&str, Response> {
    crate::app_url(ctx, "Stripe sends the user back there")
}

/// `{"items": [item]}` with each item of a known kind and its fields of the
/// right types; the database checks what they name and prices them.
pub fn check_body(body: &Value) -> Result<Value, Response> {
    let Some(object) = body.as_object() else {
        return Err(invalid("the body must be an object: {\"items\": [...]}"));
    };
    if let Some(extra) = object.keys().find(|k| *k != "items" && *k != "client_request_id") {
        return Err(invalid(format!("unknown field \"{extra}\": send {{\"items\": [...]}}")));
    }
    let items = match object.get("items") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(invalid("items must be an array of one item")),
    };
    if items.len() > MAX_ITEMS {
        return Err(Response::error(
            400,
            "too_many_items",
            format!(
                "a checkout holds {MAX_ITEMS} item, got {}: start one checkout per item",
                items.len()
            ),
        ));
    }
    for item in items {
        check_item(item)?;
    }
    Ok(Value::Array(items.clone()))
}

fn check_item(item: &Value) -> Result<(), Response> {
    let Some(fields) = item.as_object() else {
        return Err(invalid("an item must be an object with a kind"));
    };
    let kind = fields.get("kind").and_then(Value::as_str).unwrap_or_default();
    let (required, optional): (Fields, Fields) = match kind {
        "ticket" => (&[("tier_id", Field::Uuid), ("quantity", Field::Quantity)], &[]),
        "tip" => (
            &[
                ("artist_id", Field::Uuid),
                ("amount_minor", Field::Amount),
                ("currency", Field::Currency),
            ],
            &[],
        ),
        "drop" | "merch" => (&[("product_id", Field::Uuid), ("quantity", Field::Quantity)], &[]),
        "membership" => (&[("artist_id", Field::Uuid)], &[]),
        "plan" => (&[("plan", Field::Plan)], &[("currency", Field::Currency)]),
        "sponsorship" => (&[("offer_id", Field::Uuid)], &[]),
        _ => {
            return Err(invalid(
                "an item's kind must be ticket, tip, drop, merch, membership, plan or sponsorship",
            ))
        }
    };
    check_fields(kind, fields, required, optional)
}

/// An item's fields: each name with what its value must be.
type Fields = &'static [(&'static str, Field)];

#[derive(Clone, Copy)]
enum Field {
    Uuid,
    Quantity,
    Amount,
    Currency,
    Plan,
}

impl Field {
    fn accepts(self, value: &Value) -> bool {
        match self {
            Field::Uuid => value.as_str().is_some_and(is_canonical_uuid),
            Field::Quantity => value.as_u64().is_some_and(|q| (1..=10).contains(&q)),
            Field::Amount => value.as_u64().is_some_and(|a| a >= 1),
            Field::Currency => value
                .as_str()
                .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic())),
            Field::Plan => value.as_str().is_some_and(|p| !p.is_empty() && p.len() <= 50),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Field::Uuid => "a UUID",
            Field::Quantity => "an integer from 1 to 10",
            Field::Amount => "an integer ≥ 1 (minor units)",
            Field::Currency => "an ISO 4217 code such as EUR",
            Field::Plan => "basic, pro or enterprise",
        }
    }
}

fn check_fields(kind: &str, fields: &Map<String, Value>, required: &[(&str, Field)], optional: &[(&str, Field)]) -> Result<(), Response> {
    for (name, value) in fields {
        if name == "kind" {
            continue;
        }
        let Some((_, field)) = required.iter().chain(optional).find(|(n, _)| n == name) else {
            return Err(invalid(format!("a {kind} item has no field \"{name}\"")));
        };
        if !field.accepts(value) {
            return Err(invalid(format!("a {kind} item's {name} must be {}", field.expected())));
        }
    }
    if let Some((missing, field)) = required.iter().find(|(n, _)| !fields.contains_key(*n)) {
        return Err(invalid(format!("a {kind} item needs {missing} ({})", field.expected())));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> Response {
    Response::error(400, "invalid_item", message)
}

/// The client's key for retrying this request: the `Idempotency-Key` header
/// or the body's `client_request_id` (the same when both are sent).
fn client_request_id(request: &Request, body: &Value) -> Result<Option<String>, Response> {
    let header = request.header("idempotency-key").map(str::trim).filter(|k| !k.is_empty());
    let field = match body.get("client_request_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(bad_request_id("client_request_id must be a string")),
    };
    let key = match (header, field) {
        (Some(h), Some(f)) if h != f => return Err(bad_request_id("the Idempotency-Key header and client_request_id differ")),
        (h, f) => h.or(f),
    };
    match key {
        Some(k) if k.is_empty() || k.chars().count() > MAX_REQUEST_ID_CHARS => Err(bad_request_id(format!(
            "an Idempotency-Key must be 1 to {MAX_REQUEST_ID_CHARS} characters"
        ))),
        k => Ok(k.map(str::to_owned)),
    }
}

fn bad_request_id(message: impl Into<String>) -> Response {
    Response::error(400, "invalid_client_request_id", message)
}

/// The database's refusals as HTTP, by the stable code in their DETAIL; the
/// rest as every function answers them.
pub fn error_response(error: &DbError) -> Response {
    let message = || error.message.clone().unwrap_or_default();
    let status = match error.detail.as_deref().unwrap_or_default() {
        "invalid_item" | "too_many_items" | "amount_out_of_bounds" | "unsupported_currency" | "invalid_client_request_id" => 400,
        "sign_in_required" => 401,
        "not_a_payer" => 403,
        "unknown_item" | "unknown_checkout" | "no_billing_account" => 404,
        "sold_out"
        | "sale_not_open"
        | "sale_closed"
        | "not_for_sale"
        | "already_subscribed"
        | "checkout_closed"
        | "offer_not_payable"
        | "checkout_in_progress" => 409,
        "client_request_id_reused" => 422,
        // Stripe answered a session that is not one: ours to look into.
        "invalid_session" | "session_mismatch" => {
            return Response::internal_because(format!("checkout_opened refused Stripe's session: {}", message()))
        }
        _ => return db::error_response(error),
    };
    Response::error(status, error.detail.as_deref().unwrap_or_default(), message())
}

#[cfg(test)]
pub(crate) mod tests;
