//! The first step the scheduled workers share (`payout-worker`,
//! `receipts-sender`, `refund-worker`): pg_cron calls them with the service
//! role key, and each run begins with its claim of leased work.

use crate::auth;
use crate::db::Session;
use crate::http::{self, Action, Request, Response};
use crate::Context;
use serde_json::json;

/// A `POST` with the service role key only; then, once `ready` says the run
/// could send what it claims (its provider's key and settings are there),
/// `claim_sql($1 batch_size, $2 lease_seconds)` as service_role, whose rows
/// come back to the worker's `complete` with the state `{"step": "claim"}`.
pub fn claim(
    request: &Request,
    ctx: &Context,
    ready: impl FnOnce(&Context) -> Result<(), Response>,
    claim_sql: &'static str,
    batch_size: i64,
    lease_seconds: i64,
) -> Result<Action, Action> {
    http::expect_method(request, "POST")?;
    auth::service_only(request, ctx)?;
    // Nothing is claimed that this run could not send.
    ready(ctx)?;
    Ok(Action::query(
        Session::service(),
        claim_sql,
        vec![json!(batch_size), json!(lease_seconds)],
        json!({ "step": "claim" }),
    ))
}
