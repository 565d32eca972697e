//! Email through Resend's batch endpoint, `POST /emails/batch`: up to
//! [`MAX_BATCH`] emails in one request, because Resend allows a team 2
//! requests a second by default (across its API keys), and one request per
//! email would turn a ticket drop's receipts into `429`s. Each request carries
//! `RESEND_API_KEY` and an `Idempotency-Key` of its own (Resend keeps keys for
//! 24 hours and answers a repeat of the same request with the first answer,
//! delivering nothing twice), and `x-batch-validation: permissive`, so that an
//! email Resend refuses (an address it does not take) is refused alone while
//! the others of the request are sent. Retries and errors are [`outbound`]'s.

use crate::http::{Action, Response};
use crate::outbound::{self, Call, Service};
use crate::Context;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const DEFAULT_BASE: &str = "https://api.resend.com";
/// Resend's limit on an `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 256;
/// Resend's limit on the emails of one batch request.
pub const MAX_BATCH: usize = 100;

/// One email, as Resend takes it (in a batch, each element).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// One batch request: its emails, in order, under one `Idempotency-Key`. A
/// request made again must be the same request (the same emails in the same
/// order): Resend refuses a key used with another body (`409`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub idempotency_key: String,
    pub emails: Vec<Email>,
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

/// Makes the batch requests (concurrently); `received` gets one result per
/// request through [`outbound::settle`]: Resend's answer, which
/// [`batch_outcomes`] reads, or an [`outbound::ApiError`] for the whole request.
pub fn send_batches(ctx: &Context, batches: Vec<Batch>, state: Value) -> Result<Action, Response> {
    let calls = batches
        .into_iter()
        .map(|batch| {
            let key = &batch.idempotency_key;
            if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
                return Err(Response::internal_because("an email batch without a usable idempotency key"));
            }
            if batch.emails.is_empty() || batch.emails.len() > MAX_BATCH {
                return Err(Response::internal_because(format!(
                    "an email batch of {} emails (Resend takes 1 to {MAX_BATCH})",
                    batch.emails.len()
                )));
            }
            Ok(Call {
                service: Service::Resend,
                method: "POST".into(),
                path: "/emails/batch".into(),
                content_type: Some("application/json".into()),
                body: serde_json::to_string(&batch.emails).expect("emails serialise"),
                idempotency_key: Some(batch.idempotency_key),
                account: None,
                headers: BTreeMap::from([("x-batch-validation".to_owned(), "permissive".to_owned())]),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    outbound::start(ctx, calls, state)
}

/// What became of each email of a batch request of `count` emails, in the
/// request's order, from Resend's `2xx` answer in permissive mode:
/// `{"data": [{"id"}], "errors": [{"index", "message"}]}`, where `errors`
/// names the emails it refused, by index, and `data` holds the ids of the
/// emails it accepted, in order (or, read the other way, one id per email of
/// the request, the refused ones' included). `Ok(id)` sent, `Err(message)`
/// refused. An answer that does not account for every email exactly once is
/// an error of the whole request.
pub fn batch_outcomes(answer: &Value, count: usize) -> Result<Vec<Result<String, String>>, String> {
    let ids: Vec<&str> = answer["data"]
        .as_array()
        .ok_or("Resend answered the batch without `data`")?
        .iter()
        .map(|d| d["id"].as_str().filter(|id| !id.is_empty()))
        .collect::<Option<_>>()
        .ok_or("Resend answered the batch with an email without an id")?;
    let mut refused: BTreeMap<usize, String> = BTreeMap::new();
    for e in answer["errors"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let index = e["index"].as_u64().map(|i| i as usize).filter(|i| *i < count);
        let message = e["message"].as_str().unwrap_or("refused without a message");
        match index {
            Some(i) if !refused.contains_key(&i) => refused.insert(i, message.to_owned()),
            _ => return Err(format!("Resend answered the batch with an error for no email of it: {e}")),
        };
    }
    // One id per email of the request: the refused ones are told by `errors`.
    let one_per_email = ids.len() == count;
    if !one_per_email && ids.len() + refused.len() != count {
        return Err(format!(
            "Resend answered a batch of {count} emails with {} ids and {} errors",
            ids.len(),
            refused.len()
        ));
    }
    let mut ids = ids.into_iter();
    Ok((0..count)
        .map(|i| match refused.remove(&i) {
            Some(message) => {
                if one_per_email {
                    ids.next();
                }
                Err(message)
            }
            None => Ok(ids.next().expect("counted above").to_owned()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Action;
    use serde_json::json;

    fn email(to: &str) -> Email {
        Email {
            from: "Buckets <receipts@buckets.test>".into(),
            to: vec![to.into()],
            subject: "Your receipt".into(),
            html: "<p>Thanks</p>".into(),
            text: "Thanks".into(),
        }
    }

    #[test]
    fn a_batch_is_one_json_post_of_its_emails_under_its_key() {
        let ctx = crate::outbound::tests::resend_ctx();
        let batch = Batch {
            idempotency_key: "receipts/7".into(),
            emails: vec![email("fan@example.com"), email("friend@example.com")],
        };
        let Action::Http { calls, delay_ms, .. } = send_batches(&ctx, vec![batch], json!({"mine": 1})).unwrap() else {
            panic!("not an HTTP action");
        };
        assert_eq!(delay_ms, 0);
        assert_eq!(calls.len(), 1, "one request for both");
        assert_eq!(calls[0].url, "http://127.0.0.1:54341/emails/batch");
        assert_eq!(calls[0].headers["idempotency-key"], "receipts/7");
        assert_eq!(calls[0].headers["x-batch-validation"], "permissive");
        assert_eq!(calls[0].headers["authorization"], "Bearer re_test_key");
        assert_eq!(calls[0].headers["content-type"], "application/json");
        assert!(!calls[0].headers.contains_key("stripe-version"));
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].body).unwrap(),
            json!([{"from": "Buckets <receipts@buckets.test>", "to": ["fan@example.com"], "subject": "Your receipt",
                    "html": "<p>Thanks</p>", "text": "Thanks"},
                   {"from": "Buckets <receipts@buckets.test>", "to": ["friend@example.com"], "subject": "Your receipt",
                    "html": "<p>Thanks</p>", "text": "Thanks"}])
        );
    }

    #[test]
    fn a_batch_needs_a_key_and_one_to_a_hundred_emails() {
        let ctx = crate::outbound::tests::resend_ctx();
        let batch = |key: &str, n: usize| Batch {
            idempotency_key: key.into(),
            emails: vec![email("fan@example.com"); n],
        };
        assert!(send_batches(&ctx, vec![batch("k", MAX_BATCH)], Value::Null).is_ok());
        for bad in [batch("", 1), batch(&"k".repeat(257), 1), batch("k", 0), batch("k", MAX_BATCH + 1)] {
            assert_eq!(send_batches(&ctx, vec![bad], Value::Null).unwrap_err().status, 500);
        }
    }

    #[test]
    fn each_email_of_a_batch_is_sent_or_refused_in_order() {
        let all = json!({"data": [{"id": "a"}, {"id": "b"}, {"id": "c"}]});
        assert_eq!(
            batch_outcomes(&all, 3).unwrap(),
            vec![Ok("a".into()), Ok("b".into()), Ok("c".into())]
        );
        let one_refused = json!({"data": [{"id": "a"}, {"id": "c"}],
                                 "errors": [{"index": 1, "message": "Invalid `to` field."}]});
        assert_eq!(
            batch_outcomes(&one_refused, 3).unwrap(),
            vec![Ok("a".into()), Err("Invalid `to` field.".into()), Ok("c".into())]
        );
        let an_id_for_each = json!({"data": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                                    "errors": [{"index": 1, "message": "Invalid `to` field."}]});
        assert_eq!(
            batch_outcomes(&an_id_for_each, 3).unwrap(),
            vec![Ok("a".into()), Err("Invalid `to` field.".into()), Ok("c".into())],
            "an id for every email of the request, the refused one's too: the errors still tell which"
        );
        for bad in [
            json!({"data": [{"id": "a"}]}),
            json!({"data": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]}),
            json!({"data": [{"id": "a"}, {"id": ""}, {"id": "c"}]}),
            json!({"data": [{"id": "a"}], "errors": [{"index": 1, "message": "x"}, {"index": 1, "message": "x"}]}),
            json!({"data": [{"id": "a"}, {"id": "b"}], "errors": [{"index": 3, "message": "x"}]}),
            json!({"errors": []}),
        ] {
            assert!(batch_outcomes(&bad, 3).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sender_must_be_set() {
        let mut ctx = crate::outbound::tests::resend_ctx();
        assert_eq!(sender(&ctx).unwrap(), "Buckets <receipts@buckets.test>");
        ctx.env.receipts_from = Some(" ".into());
        assert_eq!(sender(&ctx).unwrap_err().status, 500);
    }
}
