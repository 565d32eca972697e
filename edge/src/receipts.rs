//! `POST /functions/v1/receipts-sender`: delivers the messages of
//! `treasury.outbox` through Resend (docs/treasury-receipts.md). Service role
//! key only.
//!
//! ```text
//! handle ─► treasury.claim_outbox() (leased to this run, in requests of ≤ 100)
//!   ─► render each ─► Resend POST /emails/batch per request, all at once,
//!      Idempotency-Key = the request's key from the claim
//!   ─► one statement: outbox_sent / outbox_failed per message
//!   ─► 200 {"claimed", "sent", "retrying", "failed"}
//! ```
//!
//! A request is made again only whole: the claim hands back the same
//! messages under the same key, and rendering is a function of the message,
//! so the body is the same and Resend answers a repeat it already processed
//! with its first answer.

use crate::db::{self, Session};
use crate::http::{Action, HttpResult, Request, Response};
use crate::outbound::{self, ApiError, Service};
use crate::resend::{self, Batch, Email};
use crate::{worker, Context};
use buckets_core::treasury::format_amount;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Messages per run: five batch requests of 100 (Resend's default limit is 2
/// requests a second; the ones refused with a `429` are retried after its
/// `retry-after`), about 30,000 messages an hour with one run a minute.
pub const BATCH_SIZE: i64 = 500;
/// How long a run has its messages before another run may take them.
pub const LEASE_SECONDS: i64 = 120;
const CLAIM_SQL: &str = "select treasury.claim_outbox($1::int, $2::int) as messages";
/// Marks every message of the run in one statement; answers their new statuses.
const MARK_SQL: &str = "select coalesce(jsonb_agg(x.marked ->> 'status'), '[]') as statuses \
  from jsonb_to_recordset($1::jsonb) as m(id uuid, provider_id text, error text, retryable boolean) \
  cross join lateral (select case when m.provider_id is not null then treasury.outbox_sent(m.id, m.provider_id) \
                                  else treasury.outbox_failed(m.id, m.error, m.retryable) end as marked) as x";

/// A claimed message, as `claim_outbox` hands it out.
#[derive(Debug, Clone, Deserialize)]
pub struct Outgoing {
    pub id: String,
    /// The `Idempotency-Key` of the batch request that carries it.
    pub request_key: String,
    pub kind: String,
    pub email: String,
    pub data: Value,
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What becomes of one message: sent (Resend's id), or failed and whether
/// trying again may succeed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mark {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retryable: Option<bool>,
}

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    let ready = |ctx: &Context| {
        resend::sender(ctx)?;
        app_url(ctx)?;
        outbound::configured(ctx, Service::Resend)
    };
    worker::claim(request, ctx, ready, CLAIM_SQL, BATCH_SIZE, LEASE_SECONDS)
}

fn app_url(ctx: &Context) -> Result<&str, Response> {
    crate::app_url(ctx, "the receipts link to the app")
}

pub fn complete(state: &Value, rows: &Value, ctx: &Context) -> Action {
    let next = match state["step"].as_str() {
        Some("claim") => claimed(&rows[0]["messages"], ctx),
        Some("mark") => Ok(marked(state, &rows[0]["statuses"])),
        _ => Err(Response::internal_because("receipts-sender completed a query it never asked for")),
    };
    next.unwrap_or_else(Action::from)
}

pub fn fail(_state: &Value, error: &db::DbError, _ctx: &Context) -> Action {
    db::error_response(error).into()
}

fn claimed(messages: &Value, ctx: &Context) -> Result<Action, Response> {
    let messages: Vec<Outgoing> = serde_json::from_value(messages.clone())
        .map_err(|e| Response::internal_because(format!("claim_outbox answered messages that do not parse: {e}")))?;
    if messages.is_empty() {
        return Ok(Response::json(200, &json!({ "claimed": 0, "sent": 0, "retrying": 0, "failed": 0 })).into());
    }
    let from = resend::sender(ctx)?;
    let app = app_url(ctx)?;
    let mut batches: Vec<Batch> = Vec::new();
    // The message ids of each batch, in its order.
    let mut sending: Vec<Vec<String>> = Vec::new();
    let mut marks = Vec::new();
    // The claim answers each request's messages together, in their order.
    for request in messages.chunk_by(|a, b| a.request_key == b.request_key) {
        let mut emails = Vec::new();
        let mut ids = Vec::new();
        for m in request {
            match render(&m.kind, &m.data, app) {
                Ok(message) => {
                    emails.push(Email {
                        from: from.clone(),
                        to: vec![m.email.clone()],
                        subject: message.subject,
                        html: message.html,
                        text: message.text,
                    });
                    ids.push(m.id.clone());
                }
                // Data no message can be made of: sending again would not help.
                Err(why) => marks.push(Mark {
                    id: m.id.clone(),
                    provider_id: None,
                    error: Some(format!("cannot render the message: {why}")),
                    retryable: Some(false),
                }),
            }
        }
        if !emails.is_empty() {
            batches.push(Batch {
                idempotency_key: request[0].request_key.clone(),
                emails,
            });
            sending.push(ids);
        }
    }
    let state = json!({ "claimed": messages.len(), "sending": sending, "marks": marks });
    if batches.is_empty() {
        return Ok(mark(state));
    }
    resend::send_batches(ctx, batches, state)
}

pub fn received(state: &Value, results: &[HttpResult], ctx: &Context) -> Action {
    outbound::received_with(state, results, ctx, next_after_resend)
}

fn next_after_resend(results: Vec<Result<Value, ApiError>>, mut mine: Value) -> Result<Action, Response> {
    let sending: Vec<Vec<String>> = serde_json::from_value(mine["sending"].clone())
        .map_err(|e| Response::internal_because(format!("the sender's state does not parse: {e}")))?;
    let mut marks: Vec<Mark> = serde_json::from_value(mine["marks"].clone())
        .map_err(|e| Response::internal_because(format!("the sender's state does not parse: {e}")))?;
    let failed = |id: String, error: String, retryable: bool| Mark {
        id,
        provider_id: None,
        error: Some(error),
        retryable: Some(retryable),
    };
    for (ids, result) in sending.into_iter().zip(results) {
        match result.map(|answer| resend::batch_outcomes(&answer, ids.len())) {
            Ok(Ok(outcomes)) => marks.extend(ids.into_iter().zip(outcomes).map(|(id, outcome)| match outcome {
                Ok(provider_id) => Mark {
                    id,
                    provider_id: Some(provider_id),
                    error: None,
                    retryable: None,
                },
                // Resend refused this email itself.
                Err(message) => failed(id, format!("Resend refused the email: {message}"), false),
            })),
            // An answer that does not say what became of each: asked again under the same key,
            // Resend answers as it did the first time, so a later run tells.
            Ok(Err(why)) => marks.extend(ids.into_iter().map(|id| failed(id, why.clone(), true))),
            Err(e) => marks.extend(ids.into_iter().map(|id| failed(id, e.describe(), e.is_transient()))),
        }
    }
    mine["marks"] = serde_json::to_value(&marks).expect("marks serialise");
    Ok(mark(mine))
}

fn mark(state: Value) -> Action {
    let marks = state["marks"].clone();
    Action::query(
        Session::service(),
        MARK_SQL,
        vec![marks],
        json!({ "step": "mark", "claimed": state["claimed"] }),
    )
}

fn marked(state: &Value, statuses: &Value) -> Action {
    let count = |status: &str| {
        statuses
            .as_array()
            .map_or(0, |all| all.iter().filter(|s| s.as_str() == Some(status)).count())
    };
    Response::json(
        200,
        &json!({ "claimed": state["claimed"], "sent": count("sent"), "retrying": count("pending"), "failed": count("failed") }),
    )
    .into()
}

/// The message of an outbox row: its subject, text and HTML. `app` is the
/// app's URL, which the links point into.
pub fn render(kind: &str, data: &Value, app: &str) -> Result<Message, String> {
    let text = |field: &str| data[field].as_str().ok_or_else(|| format!("{field} is missing"));
    let amount = |field: &str| -> Result<String, String> {
        let minor = data[field].as_i64().ok_or_else(|| format!("{field} is missing"))?;
        Ok(format_amount(minor, text("currency")?))
    };
    let receipt_link = || -> Result<String, String> {
        let payment = data["receipt"]["payment_id"]
            .as_str()
            .ok_or_else(|| "receipt.payment_id is missing".to_owned())?;
        Ok(format!("{app}/receipts/{payment}"))
    };
    match kind {
        "payment_receipt" => {
            let title = text("product_title")?;
            let quantity = data["quantity"].as_i64().unwrap_or(1);
            let item = if quantity > 1 {
                format!("{title} × {quantity}")
            } else {
                title.to_owned()
            };
            Ok(compose(
                format!("Your receipt: {title}"),
                "Thank you for your purchase.",
                &[
                    ("Item", item),
                    ("Paid", amount("amount_minor")?),
                    ("Date", when(text("paid_at")?)?),
                    ("Payment", text("payment_id")?.to_owned()),
                ],
                ("Your receipt", receipt_link()?),
            ))
        }
        "ticket_issued" => {
            let event = &data["event"];
            let field = |name: &str| event[name].as_str().ok_or_else(|| format!("event.{name} is missing"));
            let seats: Vec<String> = data["seats"]
                .as_array()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| "seats is missing".to_owned())?
                .iter()
                .map(|s| s.to_string())
                .collect();
            let seat_label = if seats.len() == 1 { "Seat" } else { "Seats" };
            let title = field("title")?;
            Ok(compose(
                format!("Your tickets: {title}"),
                &format!(
                    "Your {} for {title} {} ready. Show the QR code in the app at the door.",
                    if seats.len() == 1 { "ticket" } else { "tickets" },
                    if seats.len() == 1 { "is" } else { "are" }
                ),
                &[
                    ("Event", title.to_owned()),
                    ("Venue", format!("{}, {}", field("venue")?, field("city")?)),
                    ("Starts", when(field("starts_at")?)?),
                    ("Doors", when(field("doors_at")?)?),
                    ("Tier", text("tier")?.to_owned()),
                    (seat_label, seats.join(", ")),
                ],
                ("Your receipt", receipt_link()?),
            ))
        }
        "refund" => {
            let title = text("product_title")?;
            Ok(compose(
                format!("Refund: {title}"),
                "Your payment was refunded; the money goes back the way you paid.",
                &[
                    ("Item", title.to_owned()),
                    ("Refunded now", amount("amount_minor")?),
                    ("Refunded in total", amount("refunded_total_minor")?),
                    ("Paid", amount("payment_amount_minor")?),
                    ("Payment", text("payment_id")?.to_owned()),
                ],
                ("Your receipt", receipt_link()?),
            ))
        }
        "payout_sent" => {
            let paid = amount("amount_minor")?;
            Ok(compose(
                format!("Your payout of {paid} is paid"),
                "Stripe paid your payout to your bank account; it can take a few days to show there.",
                &[
                    ("Amount", paid),
                    ("Wallet", text("wallet_id")?.to_owned()),
                    ("Paid", when(text("paid_at")?)?),
                    ("Payout", text("payout_id")?.to_owned()),
                    ("Stripe payout", text("stripe_payout_id")?.to_owned()),
                ],
                ("Your payouts", format!("{app}/payouts")),
            ))
        }
        other => Err(format!("no message for kind {other}")),
    }
}

/// A timestamp as people read it, in UTC: "Sat 12 Dec 2026, 20:00 UTC".
fn when(timestamp: &str) -> Result<String, String> {
    DateTime::parse_from_rfc3339(timestamp)
        .map(|t| t.to_utc().format("%a %-d %b %Y, %H:%M UTC").to_string())
        .map_err(|_| format!("{timestamp:?} is not a timestamp"))
}

/// The same message as text and as HTML (every value escaped).
fn compose(subject: String, lead: &str, rows: &[(&str, String)], link: (&str, String)) -> Message {
    let width = rows.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0);
    let mut text = format!("{lead}\n\n");
    for (label, value) in rows {
        text.push_str(&format!("{label:<width$}  {value}\n"));
    }
    text.push_str(&format!("\n{}: {}\n\n— Buckets\n", link.0, link.1));

    let mut html = format!(
        "<!doctype html><html><body style=\"font-family: sans-serif\"><p>{}</p><table>",
        escape(lead)
    );
    for (label, value) in rows {
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            escape(label),
            escape(value)
        ));
    }
    html.push_str(&format!(
        "</table><p><a href=\"{}\">{}</a></p><p>— Buckets</p></body></html>",
        escape(&link.1),
        escape(link.0)
    ));
    // A subject is one line, whatever a title holds.
    let subject = subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    Message { subject, text, html }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
