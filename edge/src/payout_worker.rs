//! `POST /functions/v1/payout-worker`: sends the payouts the queue opened
//! (docs/treasury-payouts.md, "The payout worker"). Service role key only.
//!
//! ```text
//! handle ─► treasury.claim_payout_work() (leased to this run)
//!   ─► POST /v1/transfers (those still to make) + POST /v1/transfers/:id/reversals, all at once
//!   ─► POST /v1/payouts on each connected account, all at once
//!   ─► one statement: record_payout_step / fail_payout_attempt / record_transfer_reversal
//!   ─► 200 {"claimed", "transferred", "paid_out", "failed", "reversed", "deferred"}
//! ```
//!
//! Every call carries the idempotency key the database wrote for it, so a run
//! that crashed after Stripe answered and before the record committed is
//! repeated by the next run (once the lease ends) with the same keys, and
//! Stripe answers with what it made the first time. A call with no answer
//! after the retries is left alone (`deferred`): its outcome is unknown, so
//! nothing is reported; the next run repeats it.
//!
//! Only a refusal about the payout itself fails its attempt (and spends one
//! of the payee's attempts). A refusal that says nothing about it is ours to
//! fix and is deferred, named in the summary's `problems`, never reported as
//! the payee's failure: Stripe refusing our key or its permissions (401, 403),
//! an idempotency key reused with other parameters (`idempotency_error`), or
//! the platform's own balance too low for the transfer
//! (`balance_insufficient` on a transfer). Failing those would spend the
//! payee's attempts, and, with a transfer whose answer was lost, open a new
//! attempt under a new key that could transfer a second time.

use crate::db::{self, Session};
use crate::http::{Action, HttpResult, Request, Response};
use crate::outbound::{self, ApiError, Service};
use crate::stripe_api::{self, StripeRequest};
use crate::{worker, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Attempts per run: each makes up to two Stripe calls.
pub const BATCH_SIZE: i64 = 20;
/// How long a run has its attempts before another run may take them.
pub const LEASE_SECONDS: i64 = 300;
const CLAIM_SQL: &str = "select treasury.claim_payout_work($1::int, $2::int) as work";
/// Records every answer in one transaction, in the order given (sorted by
/// currency, as the payout functions take the currencies' locks).
const RECORD_SQL: &str = "select count(x.done) as recorded \
  from jsonb_to_recordset($1::jsonb) as r(kind text, payout_id uuid, attempt int, step text, stripe_id text, \
                                          code text, message text, transfer_id text, reversal_id text, error text) \
  cross join lateral (select case r.kind \
    when 'step' then treasury.record_payout_step(r.payout_id, r.attempt, r.step, r.stripe_id)::text \
    when 'fail' then treasury.fail_payout_attempt(r.payout_id, r.attempt, r.code, r.message, r.transfer_id)::text \
    when 'reversal' then treasury.record_transfer_reversal(r.payout_id, r.attempt, r.reversal_id, r.error)::text \
  end as done) as x";

/// An attempt as `claim_payout_work` hands it out, and what this run learnt.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attempt {
    payout_id: String,
    attempt: i64,
    transfer_id: Option<String>,
    request: Value,
    /// Stripe refused a call, or gave no answer: no more calls this run.
    #[serde(default)]
    done: bool,
}

impl Attempt {
    fn currency(&self) -> &str {
        self.request["payout"]["currency"].as_str().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reversal {
    payout_id: String,
    attempt: i64,
    transfer_id: String,
    currency: String,
    idempotency_key: String,
    metadata: Value,
}

/// One line of what to record, as `RECORD_SQL` reads it (which ignores
/// `currency`: it orders the lines).
#[derive(Debug, Clone, Serialize)]
struct Report {
    kind: &'static str,
    payout_id: String,
    attempt: i64,
    currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stripe_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reversal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Report {
    fn new(kind: &'static str, payout_id: &str, attempt: i64, currency: &str) -> Report {
        Report {
            kind,
            payout_id: payout_id.to_owned(),
            attempt,
            currency: currency.to_owned(),
            step: None,
            stripe_id: None,
            code: None,
            message: None,
            transfer_id: None,
            reversal_id: None,
            error: None,
        }
    }
}

/// A run between its steps.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Run {
    attempts: Vec<Attempt>,
    reversals: Vec<Reversal>,
    /// The attempts whose transfer the first round makes, in call order.
    #[serde(default)]
    transferring: Vec<usize>,
    /// The attempts whose payout the second round makes, in call order.
    #[serde(default)]
    paying: Vec<usize>,
    #[serde(default)]
    report: Vec<Value>,
    #[serde(default)]
    summary: Summary,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Summary {
    claimed: usize,
    transferred: usize,
    paid_out: usize,
    failed: usize,
    reversed: usize,
    deferred: usize,
    /// The refusals deferred because they are ours to fix, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

/// A refusal that says nothing about the payout (see the module's docs).
fn ours_to_fix(step: &str, e: &ApiError) -> bool {
    matches!(e.status, Some(401 | 403))
        || e.kind == "idempotency_error"
        || e.code.as_deref() == Some("idempotency_key_in_use")
        || (step == "transfer" && e.code.as_deref() == Some("balance_insufficient"))
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
        Some("record") => Ok(summary(&state["summary"])),
        _ => Err(Response::internal_because("payout-worker completed a query it never asked for")),
    };
    next.unwrap_or_else(Action::from)
}

pub fn fail(_state: &Value, error: &db::DbError, _ctx: &Context) -> Action {
    db::error_response(error).into()
}

fn summary(summary: &Value) -> Action {
    Response::json(200, summary).into()
}

fn claimed(work: &Value, ctx: &Context) -> Result<Action, Response> {
    let mut run = Run {
        attempts: parse(work, "attempts")?,
        reversals: parse(work, "reversals")?,
        ..Run::default()
    };
    run.summary.claimed = run.attempts.len();
    let mut calls = Vec::new();
    for (i, a) in run.attempts.iter().enumerate() {
        let transfer = &a.request["transfer"];
        if transfer.is_object() && a.transfer_id.is_none() {
            calls.push(StripeRequest::post(
                "/v1/transfers",
                without(transfer, &["idempotency_key"]),
                key(transfer)?,
            ));
            run.transferring.push(i);
        }
    }
    for r in &run.reversals {
        calls.push(StripeRequest::post(
            format!("/v1/transfers/{}/reversals", stripe_id(&r.transfer_id)?),
            json!({ "metadata": r.metadata }),
            r.idempotency_key.clone(),
        ));
    }
    if calls.is_empty() {
        return payouts(run, ctx);
    }
    stripe_api::call(ctx, calls, json!({ "step": "transfers", "run": run }))
}

fn parse<T: serde::de::DeserializeOwned>(work: &Value, what: &str) -> Result<T, Response> {
    serde_json::from_value(work[what].clone())
        .map_err(|e| Response::internal_because(format!("claim_payout_work answered {what} that do not parse: {e}")))
}

/// The second round: the payout on each connected account whose transfer stands.
fn payouts(mut run: Run, ctx: &Context) -> Result<Action, Response> {
    let mut calls = Vec::new();
    for (i, a) in run.attempts.iter().enumerate() {
        if a.done {
            continue;
        }
        if a.transfer_id.is_none() {
            return Err(Response::internal_because(format!(
                "attempt {} of payout {} has neither a transfer nor one to make",
                a.attempt, a.payout_id
            )));
        }
        let payout = &a.request["payout"];
        let account = payout["stripe_account"]
            .as_str()
            .ok_or_else(|| Response::internal_because("an attempt's request names no stripe_account"))?;
        calls.push(
            StripeRequest::post("/v1/payouts", without(payout, &["idempotency_key", "stripe_account"]), key(payout)?).on_account(account),
        );
        run.paying.push(i);
    }
    if calls.is_empty() {
        return record(run);
    }
    stripe_api::call(ctx, calls, json!({ "step": "payouts", "run": run }))
}

pub fn received(state: &Value, results: &[HttpResult], ctx: &Context) -> Action {
    outbound::received_with(state, results, ctx, |results, mine| next_after_stripe(results, mine, ctx))
}

fn next_after_stripe(results: Vec<Result<Value, ApiError>>, mine: Value, ctx: &Context) -> Result<Action, Response> {
    let mut run: Run = serde_json::from_value(mine["run"].clone())
        .map_err(|e| Response::internal_because(format!("the worker's state does not parse: {e}")))?;
    let mut results = results.into_iter();
    match mine["step"].as_str() {
        Some("transfers") => {
            for i in run.transferring.clone() {
                let result = results.next().ok_or_else(missing)?;
                answered(&mut run, i, "transfer", result);
            }
            for r in run.reversals.clone() {
                let result = results.next().ok_or_else(missing)?;
                reversal_answered(&mut run, &r, result);
            }
            payouts(run, ctx)
        }
        Some("payouts") => {
            for i in run.paying.clone() {
                let result = results.next().ok_or_else(missing)?;
                answered(&mut run, i, "payout", result);
            }
            record(run)
        }
        _ => Err(Response::internal_because("payout-worker received results in no HTTP step")),
    }
}

fn missing() -> Response {
    Response::internal_because("fewer Stripe results than calls")
}

/// What Stripe answered for a step of attempt `i`: the object it made (to
/// record), a refusal (the attempt fails, with the transfer made before), or
/// nothing (left for the next run).
fn answered(run: &mut Run, i: usize, step: &'static str, result: Result<Value, ApiError>) {
    let a = &mut run.attempts[i];
    let mut line = Report::new("step", &a.payout_id, a.attempt, a.currency());
    match result {
        // A 2xx that names no object: what Stripe did is unknown, as with no answer.
        Ok(object) if object["id"].as_str().is_none_or(str::is_empty) => {
            a.done = true;
            run.summary.deferred += 1;
            return;
        }
        Ok(object) => {
            let id = object["id"].as_str().map(str::to_owned);
            if step == "transfer" {
                a.transfer_id = id.clone();
                run.summary.transferred += 1;
            } else {
                run.summary.paid_out += 1;
            }
            line.step = Some(step);
            line.stripe_id = id;
        }
        Err(e) if e.is_transient() => {
            a.done = true;
            run.summary.deferred += 1;
            return;
        }
        Err(e) if ours_to_fix(step, &e) => {
            a.done = true;
            run.summary.deferred += 1;
            run.summary
                .problems
                .push(format!("{step} of payout {} deferred: {}", a.payout_id, e.describe()));
            return;
        }
        Err(e) => {
            a.done = true;
            run.summary.failed += 1;
            line.kind = "fail";
            line.code = Some(e.code.clone().unwrap_or_else(|| e.kind.clone()));
            line.message = Some(e.message.clone());
            line.transfer_id = a.transfer_id.clone();
        }
    }
    run.report.push(serde_json::to_value(&line).expect("a report line serialises"));
}

fn reversal_answered(run: &mut Run, r: &Reversal, result: Result<Value, ApiError>) {
    let mut line = Report::new("reversal", &r.payout_id, r.attempt, &r.currency);
    match result {
        // A 2xx that names no reversal: what Stripe did is unknown; the next run asks again.
        Ok(reversal) if reversal["id"].as_str().is_none_or(str::is_empty) => return,
        Ok(reversal) => {
            run.summary.reversed += 1;
            line.reversal_id = reversal["id"].as_str().map(str::to_owned);
        }
        Err(e) if e.is_transient() => return,
        Err(e) if ours_to_fix("reversal", &e) => {
            run.summary
                .problems
                .push(format!("reversal for payout {} deferred: {}", r.payout_id, e.describe()));
            return;
        }
        Err(e) => line.error = Some(format!("{}: {}", e.code.as_deref().unwrap_or(&e.kind), e.message)),
    }
    run.report.push(serde_json::to_value(&line).expect("a report line serialises"));
}

/// Records the run's answers in one statement, in currency order; or, when
/// there is nothing to record, answers the summary.
fn record(run: Run) -> Result<Action, Response> {
    let summary = serde_json::to_value(&run.summary).expect("the summary serialises");
    if run.report.is_empty() {
        return Ok(Response::json(200, &summary).into());
    }
    let mut lines = run.report;
    lines.sort_by(|a, b| {
        let order = |v: &Value| {
            (
                v["currency"].as_str().unwrap_or_default().to_owned(),
                v["payout_id"].as_str().unwrap_or_default().to_owned(),
                v["attempt"].as_i64().unwrap_or_default(),
            )
        };
        order(a).cmp(&order(b))
    });
    Ok(Action::query(
        Session::service(),
        RECORD_SQL,
        vec![Value::Array(lines)],
        json!({ "step": "record", "summary": summary }),
    ))
}

/// A Stripe object of the request without the fields that are not its parameters.
fn without(object: &Value, fields: &[&str]) -> Value {
    let mut params: Map<String, Value> = object.as_object().cloned().unwrap_or_default();
    for field in fields {
        params.remove(*field);
    }
    Value::Object(params)
}

fn key(object: &Value) -> Result<String, Response> {
    object["idempotency_key"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Response::internal_because("an attempt's request has no idempotency_key"))
}

/// An id that goes into a URL path: Stripe's ids are letters, digits and `_`.
fn stripe_id(id: &str) -> Result<&str, Response> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(id)
    } else {
        Err(Response::internal_because(format!("{id:?} is not a Stripe id")))
    }
}

#[cfg(test)]
mod tests;
