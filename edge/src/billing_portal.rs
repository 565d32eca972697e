//! `POST /functions/v1/billing-portal`: a Stripe Customer Portal session for
//! the signed-in user, where they change or cancel their memberships and
//! plan, update their card and read their invoices (docs/treasury-checkout.md).
//! Their Stripe Customer is the one their first subscription's checkout made.

use crate::checkout;
use crate::db::DbError;
use crate::http::{self, Action, HttpResult, Request, Response};
use crate::outbound;
use crate::stripe_api::{self, StripeRequest};
use crate::{tickets, Context};
use serde_json::{json, Value};

const CUSTOMER_SQL: &str = "select treasury.billing_customer() as customer";
/// Where the portal's "return" link leads, under `APP_URL`.
pub const RETURN_PATH: &str = "/account/billing";

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "POST")?;
    let session = tickets::user_session(request, ctx)?;
    return_url(ctx)?;
    Ok(Action::query(
        session,
        CUSTOMER_SQL,
        vec![],
        json!({ "request_id": request.request_id }),
    ))
}

/// The portal session request for `customer`. Its idempotency key is the
/// request's id: the retries of this request are one session, a new request
/// a new one (a portal session is good for a few minutes only).
pub fn portal_request(customer: &str, return_url: &str, request_id: &str) -> StripeRequest {
    StripeRequest::post(
        "/v1/billing_portal/sessions",
        json!({ "customer": customer, "return_url": return_url }),
        format!("buckets_portal_{request_id}"),
    )
}

pub fn complete(state: &Value, rows: &Value, ctx: &Context) -> Action {
    let Some(customer) = rows[0]["customer"].as_str() else {
        return Response::internal_because("treasury.billing_customer answered no customer").into();
    };
    let (Ok(url), Some(request_id)) = (return_url(ctx), state["request_id"].as_str().filter(|r| !r.is_empty())) else {
        return Response::internal_because("APP_URL or the request id was not given to complete").into();
    };
    stripe_api::call(ctx, vec![portal_request(customer, &url, request_id)], Value::Null).unwrap_or_else(Action::from)
}

pub fn fail(_state: &Value, error: &DbError, _ctx: &Context) -> Action {
    checkout::error_response(error).into()
}

pub fn received(state: &Value, results: &[HttpResult], ctx: &Context) -> Action {
    outbound::received_with(state, results, ctx, |results, _| {
        Ok(match results.into_iter().next() {
            Some(Ok(session)) if session["url"].is_string() => Response::json(200, &json!({ "url": session["url"] })).into(),
            Some(Ok(_)) => Response::internal_because("Stripe's portal session has no url").into(),
            Some(Err(error)) => error.response().into(),
            None => Response::internal_because("no result for the portal session call").into(),
        })
    })
}

fn return_url(ctx: &Context) -> Result<String, Response> {
    checkout::app_url(ctx).map(|u| format!("{u}{RETURN_PATH}"))
}

#[cfg(test)]
mod tests;
