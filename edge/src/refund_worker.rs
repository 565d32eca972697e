//! `POST /functions/v1/refund-worker`: asks Stripe for the refunds Treasury
//! queued in `treasury.refund_requests` (docs/treasury-refunds.md). Service
//! role key only; pg_cron calls it every minute on a hosted project.
//!
//! ```text
//! handle ─► treasury.claim_refund_work() (leased to this run, one attempt each)
//!   ─► POST /v1/refunds for each, all at once, Idempotency-Key = the request's key
//!   ─► one statement: record_refund_sent / record_refund_failure per request
//!   ─► 200 {"claimed", "sent", "retrying", "failed", "problems"?}
//! ```
//!
//! The refund is booked when Stripe's `charge.refunded` arrives at the
//! webhook (treasury_private.apply_refund); that booking marks the request
//! refunded. This worker only gets Stripe to make the refund, once: every
//! call of a request carries its idempotency key, so a run that crashed after
//! Stripe answered is repeated by the next (once the lease ends) and Stripe
//! answers with the refund it made the first time.
//!
//! What becomes of a request after a call ([`outcome`]): Stripe's refund
//! (`sent`; a refund Stripe reports `failed` or `canceled` fails the request);
//! a refusal about the refund itself, such as more than is left on the charge
//! (failed for good: asking again cannot help); no answer, Stripe busy, or a
//! refusal that says nothing about the refund and is ours to fix (our key, an
//! idempotency conflict): tried again after [`retry_delay_seconds`], until
//! [`MAX_ATTEMPTS`] attempts were made, well inside the 24 hours Stripe keeps
//! an idempotency key.

use crate::db::{self, Session};
use crate::http::{Action, HttpResult, Request, Response};
use crate::outbound::{self, ApiError, Service};
use crate::stripe_api::{self, StripeRequest};
use crate::{worker, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Requests per run.
pub const BATCH_SIZE: i64 = 20;
/// How long a run has its requests before another run may take them.
pub const LEASE_SECONDS: i64 = 300;
/// Attempts before a request whose calls had no usable answer fails for good.
pub const MAX_ATTEMPTS: i64 = 8;
/// The wait after a first failed attempt; it doubles with each attempt.
pub const FIRST_RETRY_SECONDS: i64 = 60;
/// The longest wait between two attempts.
pub const MAX_RETRY_SECONDS: i64 = 3600;
/// The reasons Stripe's `reason` parameter takes; ours go into metadata.
const STRIPE_REASONS: [&str; 3] = ["duplicate", "fraudulent", "requested_by_customer"];

const CLAIM_SQL: &str = "select treasury.claim_refund_work($1::int, $2::int) as work";
/// Records every request of the run in one statement; answers their new states.
const RECORD_SQL: &str = "select coalesce(jsonb_agg(x.recorded ->> 'state'), '[]') as states \
  from jsonb_to_recordset($1::jsonb) as r(id uuid, stripe_refund_id text, stripe_status text, error text, \
                                          retry_in_seconds int) \
  cross join lateral (select case when r.stripe_refund_id is not null \
                                  then treasury.record_refund_sent(r.id, r.stripe_refund_id, r.stripe_status) \
                                  else treasury.record_refund_failure(r.id, r.error, r.retry_in_seconds) end as recorded) as x";

/// A request as `claim_refund_work` hands it out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claimed {
    pub id: String,
    pub payment_id: String,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    pub idempotency_key: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// What a call made of a request, as `RECORD_SQL` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_refund_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With an error: when to try again; `None` fails the request for good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_seconds: Option<i64>,
}

/// The Stripe request that refunds a claimed request: the PaymentIntent (or,
/// for an invoice's payment, its charge), the amount in minor units, Stripe's
/// reason when ours is one of Stripe's, and our ids and reason in metadata.
pub fn refund_request(r: &Claimed) -> Result<StripeRequest, String> {
    let mut params = json!({
        "amount": r.amount,
        "metadata": { "refund_request_id": r.id, "payment_id": r.payment_id, "reason": r.reason },
    });
    match (&r.payment_intent, &r.charge) {
        (Some(pi), _) => params["payment_intent"] = json!(pi),
        (None, Some(charge)) => params["charge"] = json!(charge),
        (None, None) => return Err(format!("refund request {} names neither a PaymentIntent nor a charge", r.id)),
    }
    if STRIPE_REASONS.contains(&r.reason.as_str()) {
        params["reason"] = json!(r.reason);
    }
    Ok(StripeRequest::post("/v1/refunds", params, r.idempotency_key.clone()))
}

/// The wait before the attempt after `attempts`: a minute, doubling, at most an hour.
pub fn retry_delay_seconds(attempts: i64) -> i64 {
    let doublings = attempts.clamp(1, 32) - 1;
    FIRST_RETRY_SECONDS.saturating_mul(1 << doublings).min(MAX_RETRY_SECONDS)
}

/// A refusal that says nothing about the refund (see the module's docs).
fn ours_to_fix(e: &ApiError) -> bool {
    matches!(e.status, Some(401 | 403)) || e.kind == "idempotency_error" || e.code.as_deref() == Some("idempotency_key_in_use")
}

/// What Stripe's answer to a request's call makes of it.
pub fn outcome(r: &Claimed, result: Result<Value, ApiError>) -> Outcome {
    let mut out = Outcome {
        id: r.id.clone(),
        stripe_refund_id: None,
        stripe_status: None,
        error: None,
        retry_in_seconds: None,
    };
    let retry = |out: &mut Outcome, error: String| {
        if r.attempts < MAX_ATTEMPTS {
            out.retry_in_seconds = Some(retry_delay_seconds(r.attempts));
            out.error = Some(error);
        } else {
            out.error = Some(format!(
                "{error} (after {} attempts; check the payment in Stripe before asking again)",
                r.attempts
            ));
        }
    };
    match result {
        Ok(refund) => {
            let id = refund["id"].as_str().filter(|id| id.starts_with("re_")).map(str::to_owned);
            let status = refund["status"].as_str().unwrap_or("unknown").to_owned();
            match id {
                // A 2xx that names no refund: what Stripe did is unknown; the same key asks again.
                None => retry(&mut out, "Stripe answered without a refund id".to_owned()),
                Some(id) if status == "failed" || status == "canceled" => {
                    let why = refund["failure_reason"].as_str().unwrap_or("no reason given");
                    out.error = Some(format!("Stripe's refund {id} is {status}: {why}"));
                }
                Some(id) => {
                    out.stripe_refund_id = Some(id);
                    out.stripe_status = Some(status);
                }
            }
        }
        Err(e) if e.is_transient() || ours_to_fix(&e) => retry(&mut out, e.describe()),
        Err(e) => out.error = Some(e.describe()),
    }
    out
}

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    worker::claim(
        request,
        ctx,
        |ctx| outbound::configured(ctx, Service::Stripe),
        CLAIM_SQL,
        BATCH_SIZE,
        LEASE_SECONDS,
    )
}

pub fn complete(state: &Value, rows: &Value, ctx: &Context) -> Action {
    let next = match state["step"].as_str() {
        Some("claim") => claimed(&rows[0]["work"], ctx),
        Some("record") => Ok(recorded(state, &rows[0]["states"])),
        _ => Err(Response::internal_because("refund-worker completed a query it never asked for")),
    };
    next.unwrap_or_else(Action::from)
}

pub fn fail(_state: &Value, error: &db::DbError, _ctx: &Context) -> Action {
    db::error_response(error).into()
}

fn claimed(work: &Value, ctx: &Context) -> Result<Action, Response> {
    let requests: Vec<Claimed> = serde_json::from_value(work.clone())
        .map_err(|e| Response::internal_because(format!("claim_refund_work answered requests that do not parse: {e}")))?;
    if requests.is_empty() {
        return Ok(Response::json(200, &json!({ "claimed": 0, "sent": 0, "retrying": 0, "failed": 0 })).into());
    }
    let calls = requests
        .iter()
        .map(refund_request)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Response::internal_because)?;
    stripe_api::call(ctx, calls, json!({ "requests": requests }))
}

pub fn received(state: &Value, results: &[HttpResult], ctx: &Context) -> Action {
    outbound::received_with(state, results, ctx, |results, mine| {
        let requests: Vec<Claimed> = serde_json::from_value(mine["requests"].clone())
            .map_err(|e| Response::internal_because(format!("the worker's state does not parse: {e}")))?;
        if requests.len() != results.len() {
            return Err(Response::internal_because("fewer Stripe results than calls"));
        }
        let outcomes: Vec<Outcome> = requests.iter().zip(results).map(|(r, result)| outcome(r, result)).collect();
        let problems: Vec<String> = outcomes
            .iter()
            .filter(|o| o.retry_in_seconds.is_some())
            .map(|o| format!("refund request {}: {}", o.id, o.error.as_deref().unwrap_or_default()))
            .collect();
        Ok(Action::query(
            Session::service(),
            RECORD_SQL,
            vec![serde_json::to_value(&outcomes).expect("outcomes serialise")],
            json!({ "step": "record", "claimed": requests.len(), "problems": problems }),
        ))
    })
}

/// The run's summary from the states the record answered: `refunded` (a
/// booking came first) counts as sent, `requested` as retrying.
fn recorded(state: &Value, states: &Value) -> Action {
    let states = states.as_array().cloned().unwrap_or_default();
    let count = |wanted: &[&str]| states.iter().filter(|s| wanted.contains(&s.as_str().unwrap_or_default())).count();
    let mut summary = json!({
        "claimed": state["claimed"],
        "sent": count(&["sent", "refunded"]),
        "retrying": count(&["requested"]),
        "failed": count(&["failed"]),
    });
    if state["problems"].as_array().is_some_and(|p| !p.is_empty()) {
        summary["problems"] = state["problems"].clone();
    }
    Response::json(200, &summary).into()
}

#[cfg(test)]
mod tests;
