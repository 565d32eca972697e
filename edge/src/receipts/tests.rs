//! receipts-sender through the host protocol, and the messages it renders.

use super::*;
use crate::auth::tests::{auth_env, host_jwks, service_key, user_token, NOW_MICROS};
use crate::tests::{answered, calls_of, drive, handle_as_host, post_head};

const APP: &str = "https://app.buckets.test";
const M1: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const M2: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const M3: &str = "aaaaaaaa-0000-4000-8000-000000000003";
const R1: &str = "receipts/0f0f0f0f-0000-4000-8000-000000000001";
const R2: &str = "receipts/0f0f0f0f-0000-4000-8000-000000000002";

fn env() -> Value {
    let mut env = auth_env();
    env["RESEND_API_KEY"] = json!("re_test_key");
    env["RESEND_API_BASE"] = json!("http://127.0.0.1:54341");
    env["RECEIPTS_FROM"] = json!("Buckets <receipts@buckets.test>");
    env["APP_URL"] = json!(APP);
    env
}

fn head(token: Option<&str>) -> Value {
    post_head("receipts-sender", token, "6c6c6c6c-0000-4000-8000-000000000001")
}

fn receipt_data(amount: i64, currency: &str) -> Value {
    json!({ "payment_id": "pi_1", "product_title": "Night <live> & loud", "product_type": "ticket", "quantity": 2,
            "amount_minor": amount, "currency": currency, "paid_at": "2026-12-02T10:31:07.123456+00:00",
            "receipt": { "rpc": "treasury.receipt", "payment_id": "pi_1" } })
}

fn ticket_data() -> Value {
    json!({ "order_id": "o1", "payment_id": "pi_1", "quantity": 2, "tier": "General", "seats": [1, 2],
            "event": { "id": "e1", "title": "Burna Live", "venue": "The Shrine", "city": "Lagos", "country": "NG",
                       "starts_at": "2026-12-12T20:00:00+00:00", "doors_at": "2026-12-12T18:30:00+00:00" },
            "receipt": { "rpc": "treasury.receipt", "payment_id": "pi_1" } })
}

fn message(id: &str, request_key: &str, kind: &str, data: Value) -> Value {
    json!({ "id": id, "request_key": request_key, "kind": kind, "recipient_id": "u1", "email": "fan@example.com", "data": data, "attempts": 1,
            "created_at": "2026-12-02T10:31:07+00:00" })
}

fn run(claim: Value, answer: impl FnMut(&Value) -> Value, statuses: Value) -> (Value, Vec<Value>) {
    let db = |step: &Value| match step["state"]["step"].as_str() {
        Some("claim") => Ok(json!([{ "messages": claim }])),
        _ => Ok(json!([{ "statuses": statuses }])),
    };
    drive("receipts-sender", &head(Some(&service_key())), b"{}", &env(), db, answer)
}

fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["respond"]["body"].as_str().unwrap()).unwrap()
}

#[test]
fn amounts_show_their_currencys_decimals() {
    for (amount, currency, shown) in [
        (5000, "JPY", "JPY 5,000"),
        (5000, "EUR", "EUR 50.00"),
        (5000, "USD", "USD 50.00"),
        (5000, "KWD", "KWD 5.000"),
        (5000, "BHD", "BHD 5.000"),
    ] {
        let m = render("payment_receipt", &receipt_data(amount, currency), APP).unwrap();
        assert!(m.text.contains(&format!("Paid     {shown}\n")), "{currency}: {}", m.text);
        assert!(m.html.contains(&format!("<td>{shown}</td>")), "{currency}");
    }
}

#[test]
fn a_receipt_says_what_was_paid_when_and_links_to_it() {
    let m = render("payment_receipt", &receipt_data(5000, "EUR"), APP).unwrap();
    assert_eq!(m.subject, "Your receipt: Night <live> & loud");
    assert_eq!(
        m.text,
        "Thank you for your purchase.\n\n\
         Item     Night <live> & loud × 2\n\
         Paid     EUR 50.00\n\
         Date     Wed 2 Dec 2026, 10:31 UTC\n\
         Payment  pi_1\n\n\
         Your receipt: https://app.buckets.test/receipts/pi_1\n\n— Buckets\n"
    );
    assert!(
        m.html.contains("<td>Night &lt;live&gt; &amp; loud × 2</td>"),
        "values are escaped: {}",
        m.html
    );
    assert!(m
        .html
        .contains("<a href=\"https://app.buckets.test/receipts/pi_1\">Your receipt</a>"));
    assert!(!m.html.contains("<live>"));
}

#[test]
fn a_ticket_message_names_the_event_its_venue_start_and_seats() {
    let m = render("ticket_issued", &ticket_data(), APP).unwrap();
    assert_eq!(m.subject, "Your tickets: Burna Live");
    for line in [
        "Your tickets for Burna Live are ready.",
        "Venue   The Shrine, Lagos\n",
        "Starts  Sat 12 Dec 2026, 20:00 UTC\n",
        "Doors   Sat 12 Dec 2026, 18:30 UTC\n",
        "Tier    General\n",
        "Seats   1, 2\n",
    ] {
        assert!(m.text.contains(line), "{line:?} in {}", m.text);
    }
    let mut one = ticket_data();
    one["seats"] = json!([3]);
    assert!(render("ticket_issued", &one, APP).unwrap().text.contains("Seat    3\n"));
}

#[test]
fn refunds_and_payouts_have_their_messages() {
    let refund = json!({ "payment_id": "pi_1", "product_title": "Tee", "amount_minor": 1250, "refunded_total_minor": 2500,
                         "payment_amount_minor": 5000, "currency": "EUR",
                         "receipt": { "rpc": "treasury.receipt", "payment_id": "pi_1" } });
    let m = render("refund", &refund, APP).unwrap();
    assert_eq!(m.subject, "Refund: Tee");
    assert!(
        m.text
            .contains("Refunded now       EUR 12.50\nRefunded in total  EUR 25.00\nPaid               EUR 50.00\n"),
        "{}",
        m.text
    );
    let payout = json!({ "payout_id": "p1", "attempt": 1, "amount_minor": 500000, "currency": "JPY", "wallet_id": "BKT-7K3M-Q9XZ-4",
                         "stripe_payout_id": "po_1", "paid_at": "2026-12-03T09:00:00+00:00" });
    let m = render("payout_sent", &payout, APP).unwrap();
    assert_eq!(m.subject, "Your payout of JPY 500,000 is paid");
    assert!(m.text.contains("Your payouts: https://app.buckets.test/payouts\n"));
    assert!(
        render("payout_sent", &json!({ "amount_minor": 1 }), APP).is_err(),
        "missing data is no message"
    );
    assert!(render("newsletter", &payout, APP).is_err());
}

#[test]
fn a_run_sends_each_request_as_one_batch_under_its_key_and_marks_each_message() {
    let claim = json!([
        message(M1, R1, "payment_receipt", receipt_data(5000, "EUR")),
        message(M2, R1, "ticket_issued", ticket_data()),
        message(M3, R2, "payment_receipt", receipt_data(700, "USD"))
    ]);
    let (answer, steps) = run(
        claim,
        |call| {
            if call["headers"]["idempotency-key"] == R1 {
                answered(
                    200,
                    &json!({ "data": [{ "id": "re_sent_1" }],
                             "errors": [{ "index": 1, "message": "Invalid `to` field." }] }),
                )
            } else {
                answered(200, &json!({ "data": [{ "id": "re_sent_3" }] }))
            }
        },
        json!(["sent", "failed", "sent"]),
    );
    assert_eq!(answer["respond"]["status"], 200, "{answer}");
    assert_eq!(body(&answer), json!({ "claimed": 3, "sent": 2, "retrying": 0, "failed": 1 }));

    assert_eq!(steps[0]["query"]["sql"], CLAIM_SQL);
    assert_eq!(steps[0]["query"]["params"], json!([500, 120]));
    assert_eq!(steps[0]["query"]["role"], "service_role");

    let sent = calls_of(&steps[1]);
    assert_eq!(sent.len(), 2, "one request per key, both at once");
    assert_eq!(sent[0]["url"], "http://127.0.0.1:54341/emails/batch");
    assert_eq!(sent[0]["headers"]["idempotency-key"], R1);
    assert_eq!(sent[0]["headers"]["x-batch-validation"], "permissive");
    assert_eq!(sent[0]["headers"]["authorization"], "Bearer re_test_key");
    let receipt = render("payment_receipt", &receipt_data(5000, "EUR"), APP).unwrap();
    let tickets = render("ticket_issued", &ticket_data(), APP).unwrap();
    let email = |m: &Message| {
        json!({ "from": "Buckets <receipts@buckets.test>", "to": ["fan@example.com"], "subject": m.subject,
                "html": m.html, "text": m.text })
    };
    assert_eq!(
        sent[0]["json"],
        json!([email(&receipt), email(&tickets)]),
        "the request's messages, in its order"
    );
    assert_eq!(sent[1]["headers"]["idempotency-key"], R2);
    assert_eq!(sent[1]["json"].as_array().unwrap().len(), 1);

    assert_eq!(steps[2]["query"]["sql"], MARK_SQL);
    let marks = &steps[2]["query"]["params"][0];
    assert_eq!(marks[0], json!({ "id": M1, "provider_id": "re_sent_1" }));
    assert_eq!(marks[1]["id"], M2);
    assert_eq!(marks[1]["retryable"], false, "Resend refused the email itself");
    assert_eq!(marks[1]["error"], "Resend refused the email: Invalid `to` field.");
    assert_eq!(marks[2], json!({ "id": M3, "provider_id": "re_sent_3" }));
}

#[test]
fn a_busy_resend_is_retried_then_left_to_a_later_run() {
    let mut tries = 0;
    let (answer, steps) = run(
        json!([
            message(M1, R1, "payment_receipt", receipt_data(5000, "EUR")),
            message(M2, R1, "ticket_issued", ticket_data())
        ]),
        |_| {
            tries += 1;
            answered(
                429,
                &json!({ "statusCode": 429, "name": "rate_limit_exceeded", "message": "Too many requests." }),
            )
        },
        json!(["pending", "pending"]),
    );
    assert_eq!(tries, crate::outbound::MAX_ATTEMPTS);
    assert_eq!(body(&answer), json!({ "claimed": 2, "sent": 0, "retrying": 2, "failed": 0 }));
    let bodies: Vec<(&Value, &Value)> = steps
        .iter()
        .filter(|s| s.get("http").is_some())
        .map(|s| (&s["http"]["calls"][0]["headers"]["idempotency-key"], &s["http"]["calls"][0]["body"]))
        .collect();
    assert!(
        bodies.iter().all(|b| *b == bodies[0] && *b.0 == R1),
        "every try the same request under the request's key: {bodies:?}"
    );
    let marks = &steps.last().unwrap()["query"]["params"][0];
    assert_eq!(marks.as_array().unwrap().len(), 2);
    assert!(marks.as_array().unwrap().iter().all(|m| m["retryable"] == true));
}

#[test]
fn an_answer_that_does_not_account_for_every_email_is_retried_later() {
    let (answer, steps) = run(
        json!([
            message(M1, R1, "payment_receipt", receipt_data(5000, "EUR")),
            message(M2, R1, "ticket_issued", ticket_data())
        ]),
        |_| answered(200, &json!({ "data": [{ "id": "re_sent_1" }] })),
        json!(["pending", "pending"]),
    );
    assert_eq!(body(&answer), json!({ "claimed": 2, "sent": 0, "retrying": 2, "failed": 0 }));
    let marks = &steps.last().unwrap()["query"]["params"][0];
    assert_eq!(marks[0]["retryable"], true);
    assert_eq!(marks[0]["error"], "Resend answered a batch of 2 emails with 1 ids and 0 errors");
    assert!(marks[1].get("provider_id").is_none(), "no id is guessed");
}

#[test]
fn a_message_that_cannot_be_rendered_fails_without_a_call() {
    let (answer, steps) = run(
        json!([message(M1, R1, "payment_receipt", json!({ "payment_id": "pi_1" }))]),
        |_| unreachable!(),
        json!(["failed"]),
    );
    assert_eq!(body(&answer), json!({ "claimed": 1, "sent": 0, "retrying": 0, "failed": 1 }));
    assert_eq!(steps.len(), 2, "claim, mark");
    let mark = &steps[1]["query"]["params"][0][0];
    assert_eq!(mark["retryable"], false);
    assert_eq!(mark["error"], "cannot render the message: product_title is missing");
}

#[test]
fn nothing_due_is_answered_at_once_and_only_the_service_role_sends() {
    let (answer, steps) = run(json!([]), |_| unreachable!(), json!([]));
    assert_eq!(steps.len(), 1);
    assert_eq!(body(&answer), json!({ "claimed": 0, "sent": 0, "retrying": 0, "failed": 0 }));
    for (token, status) in [(None, 401), (Some(user_token()), 403)] {
        let answer = handle_as_host(
            "receipts-sender",
            &head(token.as_deref()),
            b"{}",
            NOW_MICROS as f64 / 1000.0,
            &env().to_string(),
            &host_jwks(),
        );
        assert_eq!(answer["respond"]["status"], status);
    }
    for missing in ["RESEND_API_KEY", "RECEIPTS_FROM", "APP_URL"] {
        let mut unconfigured = env();
        unconfigured.as_object_mut().unwrap().remove(missing);
        let answer = handle_as_host(
            "receipts-sender",
            &head(Some(&service_key())),
            b"{}",
            NOW_MICROS as f64 / 1000.0,
            &unconfigured.to_string(),
            &host_jwks(),
        );
        assert_eq!(answer["respond"]["status"], 500, "{missing}");
        assert!(answer.get("query").is_none(), "nothing is claimed that could not be sent");
    }
}
