//! receipts-sender through the host protocol, and the messages it renders.

use super::*;
use crate::auth::tests::{auth_env, host_jwks, service_key, user_token, NOW_MICROS};
use crate::tests::{answered, calls_of, drive, handle_as_host, post_head};

const APP: &str = "https://app.buckets.test";
const M1: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const M2: &str = "aaaaaaaa-0000-4000-8000-000000000002";

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

fn message(id: &str, kind: &str, data: Value) -> Value {
    json!({ "id": id, "kind": kind, "recipient_id": "u1", "email": "fan@example.com", "data": data, "attempts": 1,
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
fn a_run_sends_each_message_once_under_its_id_and_marks_it() {
    let claim = json!([
        message(M1, "payment_receipt", receipt_data(5000, "EUR")),
        message(M2, "ticket_issued", ticket_data())
    ]);
    let (answer, steps) = run(
        claim,
        |call| {
            if call["headers"]["idempotency-key"] == M1 {
                answered(200, &json!({ "id": "re_sent_1" }))
            } else {
                answered(
                    422,
                    &json!({ "statusCode": 422, "name": "validation_error", "message": "Invalid `to` field" }),
                )
            }
        },
        json!(["sent", "failed"]),
    );
    assert_eq!(answer["respond"]["status"], 200, "{answer}");
    assert_eq!(body(&answer), json!({ "claimed": 2, "sent": 1, "retrying": 0, "failed": 1 }));

    assert_eq!(steps[0]["query"]["sql"], CLAIM_SQL);
    assert_eq!(steps[0]["query"]["params"], json!([50, 120]));
    assert_eq!(steps[0]["query"]["role"], "service_role");

    let sent = calls_of(&steps[1]);
    assert_eq!(sent.len(), 2, "both at once");
    assert_eq!(sent[0]["url"], "http://127.0.0.1:54341/emails");
    assert_eq!(sent[0]["headers"]["idempotency-key"], M1);
    assert_eq!(sent[0]["headers"]["authorization"], "Bearer re_test_key");
    let expected = render("payment_receipt", &receipt_data(5000, "EUR"), APP).unwrap();
    assert_eq!(
        sent[0]["json"],
        json!({ "from": "Buckets <receipts@buckets.test>", "to": ["fan@example.com"], "subject": expected.subject,
                "html": expected.html, "text": expected.text })
    );
    assert_eq!(sent[1]["headers"]["idempotency-key"], M2);

    assert_eq!(steps[2]["query"]["sql"], MARK_SQL);
    let marks = &steps[2]["query"]["params"][0];
    assert_eq!(marks[0], json!({ "id": M1, "provider_id": "re_sent_1" }));
    assert_eq!(marks[1]["id"], M2);
    assert_eq!(marks[1]["retryable"], false, "Resend refused the message itself");
    assert!(marks[1]["error"].as_str().unwrap().contains("Invalid `to` field"));
}

#[test]
fn a_busy_resend_is_retried_then_left_to_a_later_run() {
    let mut tries = 0;
    let (answer, steps) = run(
        json!([message(M1, "payment_receipt", receipt_data(5000, "EUR"))]),
        |_| {
            tries += 1;
            answered(
                503,
                &json!({ "statusCode": 503, "name": "internal_server_error", "message": "busy" }),
            )
        },
        json!(["pending"]),
    );
    assert_eq!(tries, crate::outbound::MAX_ATTEMPTS);
    assert_eq!(body(&answer), json!({ "claimed": 1, "sent": 0, "retrying": 1, "failed": 0 }));
    let every_key: Vec<&Value> = steps
        .iter()
        .filter(|s| s.get("http").is_some())
        .map(|s| &s["http"]["calls"][0]["headers"]["idempotency-key"])
        .collect();
    assert!(
        every_key.iter().all(|k| *k == M1),
        "every try under the message's id: {every_key:?}"
    );
    assert_eq!(steps.last().unwrap()["query"]["params"][0][0]["retryable"], true);
}

#[test]
fn a_message_that_cannot_be_rendered_fails_without_a_call() {
    let (answer, steps) = run(
        json!([message(M1, "payment_receipt", json!({ "payment_id": "pi_1" }))]),
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
