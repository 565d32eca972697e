//! Email through Resend's HTTP API (`POST /emails`), with `RESEND_API_KEY`
//! and an `Idempotency-Key` per message (Resend keeps keys for 24 hours:
//! a message sent again under its key is not delivered twice). Retries and
//! errors are [`outbound`]'s.

use crate::http::{Action, Response};
use crate::outbound::{self, Call, Service};
use crate::Context;
use serde::Serialize;
use serde_json::Value;

pub const DEFAULT_BASE: &str = "https://api.resend.com";
/// Resend's limit on an `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 256;

/// One message, as Resend's `POST /emails` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email {
    /// Not sent in the body: the `Idempotency-Key` header.
    #[serde(skip)]
    pub idempotency_key: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The sender from `RECEIPTS_FROM`, or why the function cannot send.
pub fn sender(ctx: &Context) -> Result<String, Response> {
    ctx.env
        .receipts_from
        .as_deref()
        .map(str::trim)
        .filter(|from| from.contains('@'))
        .map(str::to_owned)
        .ok_or_else(|| Response::not_configured("RECEIPTS_FROM is not set to a sender address (`Name <address>` or an address)"))
}

/// Sends the messages (concurrently); `received` gets the results through
/// [`outbound::settle`], each `{"id"}` or an [`outbound::ApiError`].
pub fn send(ctx: &Context, emails: Vec<Email>, state: Value) -> Result<Action, Response> {
    let calls = emails
        .into_iter()
        .map(|email| {
            if email.idempotency_key.is_empty() || email.idempotency_key.len() > MAX_IDEMPOTENCY_KEY_CHARS {
                return Err(Response::internal_because("an email without a usable idempotency key"));
            }
            Ok(Call {
                service: Service::Resend,
                method: "POST".into(),
                path: "/emails".into(),
                content_type: Some("application/json".into()),
                body: serde_json::to_string(&email).expect("an email serialises"),
                idempotency_key: Some(email.idempotency_key),
                account: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    outbound::start(ctx, calls, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Action;
    use serde_json::json;

    #[test]
    fn a_message_is_a_json_post_with_its_key() {
        let ctx = crate::outbound::tests::resend_ctx();
        let email = Email {
            idempotency_key: "outbox_7".into(),
            from: "Buckets <receipts@buckets.test>".into(),
            to: vec!["fan@example.com".into()],
            subject: "Your receipt".into(),
            html: "<p>Thanks</p>".into(),
            text: "Thanks".into(),
        };
        let Action::Http { calls, delay_ms, .. } = send(&ctx, vec![email], json!({"mine": 1})).unwrap() else {
            panic!("not an HTTP action");
        };
        assert_eq!(delay_ms, 0);
        assert_eq!(calls[0].url, "http://127.0.0.1:54341/emails");
        assert_eq!(calls[0].headers["idempotency-key"], "outbox_7");
        assert_eq!(calls[0].headers["authorization"], "Bearer re_test_key");
        assert_eq!(calls[0].headers["content-type"], "application/json");
        assert!(!calls[0].headers.contains_key("stripe-version"));
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].body).unwrap(),
            json!({"from": "Buckets <receipts@buckets.test>", "to": ["fan@example.com"], "subject": "Your receipt",
                   "html": "<p>Thanks</p>", "text": "Thanks"})
        );
    }

    #[test]
    fn the_sender_must_be_set() {
        let mut ctx = crate::outbound::tests::resend_ctx();
        assert_eq!(sender(&ctx).unwrap(), "Buckets <receipts@buckets.test>");
        ctx.env.receipts_from = Some(" ".into());
        assert_eq!(sender(&ctx).unwrap_err().status, 500);
    }
}
