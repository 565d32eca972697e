//! checkout through the host protocol, as the Deno host drives it: the
//! shapes it refuses, the query it runs as the user, the exact Checkout
//! Session request it makes, and what each answer of Stripe leads to.

use super::*;
use crate::auth::tests::{anon_key, auth_env, host_jwks, service_key, user_claims, user_token, NOW_MICROS, USER};
use crate::tests::{handle_as_host, run_as_host};

const CHECKOUT: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const TIER: &str = "a1a2a3a4-0000-4000-8000-000000000001";
const PRODUCT: &str = "b1b2b3b4-0000-4000-8000-000000000002";
const ORDER: &str = "c1c2c3c4-0000-4000-8000-000000000003";
const ARTIST: &str = "d1d2d3d4-0000-4000-8000-000000000004";
const OFFER: &str = "e1e2e3e4-0000-4000-8000-000000000005";
const CAMPAIGN: &str = "f1f2f3f4-0000-4000-8000-000000000006";
const BRAND: &str = "a9a8a7a6-0000-4000-8000-000000000007";
const EXPIRES: i64 = 1_800_002_100;

/// A project with Stripe's key, the local stand-in and the app's URL.
pub(crate) fn env() -> Value {
    let mut env = auth_env();
    env["STRIPE_SECRET_KEY"] = json!("sk_test_key");
    env["STRIPE_API_BASE"] = json!("http://127.0.0.1:54340");
    env["APP_URL"] = json!("https://app.buckets.test/");
    env
}

fn head(method: &str, headers: Value) -> Value {
    json!({ "method": method, "url": "http://127.0.0.1:54321/functions/v1/checkout", "headers": headers, "request_id": "r-1" })
}

fn json_headers(token: &str) -> Value {
    json!({ "authorization": format!("Bearer {token}"), "content-type": "application/json" })
}

fn call(method: &str, headers: Value, body: &str, env: &Value) -> Value {
    handle_as_host(
        "checkout",
        &head(method, headers),
        body.as_bytes(),
        NOW_MICROS as f64 / 1000.0,
        &env.to_string(),
        &host_jwks(),
    )
}

fn post(body: &str) -> Value {
    call("POST", json_headers(&user_token()), body, &env())
}

/// The status and code of an error answer (its message must say something).
pub(crate) fn error(action: &Value) -> (u64, String) {
    let respond = &action["respond"];
    let body: Value = serde_json::from_str(respond["body"].as_str().unwrap()).unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    (respond["status"].as_u64().unwrap(), body["code"].as_str().unwrap().to_owned())
}

const TICKETS: &str = r#"{"items":[{"kind":"ticket","tier_id":"a1a2a3a4-0000-4000-8000-000000000001","quantity":2}]}"#;

/// What treasury.begin_checkout answers for two seats of a 25.00 EUR tier.
fn ticket_checkout() -> Value {
    let metadata = json!({ "product_id": PRODUCT, "buyer_id": USER, "quantity": "2", "event_id": ARTIST,
                           "tier_id": TIER, "order_id": ORDER, "checkout_id": CHECKOUT });
    json!({
        "checkout_id": CHECKOUT, "status": "creating", "kind": "ticket", "mode": "payment",
        "amount_minor": 5000, "currency": "EUR", "expires_at": EXPIRES,
        "idempotency_key": format!("buckets_checkout_{CHECKOUT}"),
        "session_params": {
            "mode": "payment",
            "line_items": [{ "price_data": { "currency": "eur", "unit_amount": 2500,
                                             "product_data": { "name": "Live · General" } }, "quantity": 2 }],
            "metadata": metadata,
            "payment_intent_data": { "metadata": metadata },
            "client_reference_id": USER,
            "expires_at": EXPIRES,
        }
    })
}

fn stripe_session() -> Value {
    json!({ "id": "cs_test_a1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_a1",
            "expires_at": EXPIRES, "status": "open", "mode": "payment" })
}

fn form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

/// Runs a request to its response; `stripe` answers each round of calls.
fn run(
    body: &str,
    begin: Result<Value, Value>,
    mut stripe: impl FnMut(&Value) -> Value,
    mut later: impl FnMut(&Value) -> Result<Value, Value>,
) -> (Value, Vec<Value>) {
    let mut begun = Some(begin);
    run_as_host(
        "checkout",
        &head("POST", json_headers(&user_token())),
        body.as_bytes(),
        NOW_MICROS as f64 / 1000.0,
        &env().to_string(),
        &host_jwks(),
        |step| {
            if step.get("http").is_some() {
                return Ok(stripe(step));
            }
            match begun.take() {
                Some(answer) => answer.map(|checkout| json!([{ "checkout": checkout }])),
                None => later(step),
            }
        },
    )
}

fn answered(status: u16, body: Value) -> Value {
    json!([{ "status": status, "headers": { "request-id": "req_1" }, "body": body.to_string() }])
}

#[test]
fn begins_the_checkout_as_the_user() {
    let action = post(TICKETS);
    assert_eq!(
        action["query"],
        json!({
            "sql": "select treasury.begin_checkout($1::jsonb, $2::text) as checkout",
            "params": [[{ "kind": "ticket", "tier_id": TIER, "quantity": 2 }], null],
            "role": "authenticated",
            "claims": user_claims(),
        })
    );
}

/// A sponsorship: the client names the offer only; the database prices it from the offer and puts the
/// offer, campaign and brand in the metadata the webhook's booking reads, on the session and the
/// PaymentIntent alike.
#[test]
fn a_sponsorship_is_priced_by_its_offer_and_carries_it_to_stripe() {
    let body = format!(r#"{{"items":[{{"kind":"sponsorship","offer_id":"{OFFER}"}}]}}"#);
    assert_eq!(
        post(&body)["query"]["params"],
        json!([[{ "kind": "sponsorship", "offer_id": OFFER }], null])
    );
    let metadata = json!({ "product_id": PRODUCT, "buyer_id": USER, "quantity": "1", "artist_id": ARTIST,
                           "offer_id": OFFER, "campaign_id": CAMPAIGN, "brand_id": BRAND, "checkout_id": CHECKOUT });
    let checkout = json!({
        "checkout_id": CHECKOUT, "status": "creating", "kind": "sponsorship", "mode": "payment",
        "amount_minor": 200_000, "currency": "EUR", "expires_at": EXPIRES,
        "idempotency_key": format!("buckets_checkout_{CHECKOUT}"),
        "session_params": {
            "mode": "payment",
            "line_items": [{ "price_data": { "currency": "eur", "unit_amount": 200_000,
                                             "product_data": { "name": "Sponsorship · Acme · Summer" } }, "quantity": 1 }],
            "metadata": metadata,
            "payment_intent_data": { "metadata": metadata },
            "client_reference_id": USER,
            "expires_at": EXPIRES,
        }
    });
    let mut calls = Vec::new();
    let (answer, _) = run(
        &body,
        Ok(checkout.clone()),
        |step| {
            calls.push(step["http"]["calls"][0].clone());
            answered(200, stripe_session())
        },
        |_| {
            let mut opened = checkout.clone();
            opened["status"] = json!("open");
            opened["session"] = json!({ "id": "cs_test_a1", "url": "https://checkout.stripe.com/c/pay/cs_test_a1", "expires_at": EXPIRES });
            Ok(json!([{ "checkout": opened }]))
        },
    );
    assert_eq!(answer["respond"]["status"], 201);
    let sent = form(calls[0]["body"].as_str().unwrap());
    for (key, value) in [
        ("mode", "payment"),
        ("line_items[0][price_data][unit_amount]", "200000"),
        ("line_items[0][price_data][product_data][name]", "Sponsorship · Acme · Summer"),
        ("line_items[0][quantity]", "1"),
        ("metadata[offer_id]", OFFER),
        ("metadata[campaign_id]", CAMPAIGN),
        ("metadata[brand_id]", BRAND),
        ("metadata[artist_id]", ARTIST),
        ("payment_intent_data[metadata][offer_id]", OFFER),
        ("payment_intent_data[metadata][product_id]", PRODUCT),
    ] {
        assert!(sent.contains(&(key.to_owned(), value.to_owned())), "{key}={value} in {sent:?}");
    }
}

#[test]
fn a_client_key_makes_the_request_safe_to_retry() {
    let mut headers = json_headers(&user_token());
    headers["idempotency-key"] = json!("order-42");
    assert_eq!(call("POST", headers.clone(), TICKETS, &env())["query"]["params"][1], "order-42");
    let in_body = r#"{"items":[{"kind":"membership","artist_id":"d1d2d3d4-0000-4000-8000-000000000004"}],"client_request_id":"order-42"}"#;
    assert_eq!(post(in_body)["query"]["params"][1], "order-42");
    assert_eq!(call("POST", headers.clone(), in_body, &env())["query"]["params"][1], "order-42");
    headers["idempotency-key"] = json!("order-43");
    assert_eq!(
        error(&call("POST", headers.clone(), in_body, &env())),
        (400, "invalid_client_request_id".into())
    );
    headers["idempotency-key"] = json!("k".repeat(201));
    assert_eq!(
        error(&call("POST", headers, TICKETS, &env())),
        (400, "invalid_client_request_id".into())
    );
}

#[test]
fn refuses_what_it_cannot_take() {
    let no_token = json!({ "content-type": "application/json" });
    assert_eq!(error(&call("POST", no_token, TICKETS, &env())), (401, "missing_token".into()));
    assert_eq!(
        error(&call("POST", json_headers(&anon_key()), TICKETS, &env())),
        (401, "sign_in_required".into())
    );
    assert_eq!(
        error(&call("POST", json_headers(&service_key()), TICKETS, &env())),
        (403, "user_token_required".into())
    );
    assert_eq!(
        error(&call("GET", json_headers(&user_token()), "", &env())),
        (405, "method_not_allowed".into())
    );
    assert_eq!(call("OPTIONS", json!({}), "", &env())["respond"]["status"], 204);
    let text = json!({ "authorization": format!("Bearer {}", user_token()), "content-type": "text/plain" });
    assert_eq!(error(&call("POST", text, TICKETS, &env())), (415, "unsupported_media_type".into()));
    assert_eq!(error(&post("{")), (400, "invalid_json".into()));
    let mut no_app = env();
    no_app["APP_URL"] = json!("");
    assert_eq!(
        error(&call("POST", json_headers(&user_token()), TICKETS, &no_app)),
        (500, "not_configured".into())
    );
}

#[test]
fn checks_the_shape_of_every_kind_of_item() {
    let ok = [
        TICKETS.to_owned(),
        format!(r#"{{"items":[{{"kind":"tip","artist_id":"{ARTIST}","amount_minor":500,"currency":"eur"}}]}}"#),
        format!(r#"{{"items":[{{"kind":"drop","product_id":"{PRODUCT}","quantity":1}}]}}"#),
        format!(r#"{{"items":[{{"kind":"merch","product_id":"{PRODUCT}","quantity":10}}]}}"#),
        format!(r#"{{"items":[{{"kind":"membership","artist_id":"{ARTIST}"}}]}}"#),
        r#"{"items":[{"kind":"plan","plan":"pro"}]}"#.to_owned(),
        r#"{"items":[{"kind":"plan","plan":"pro","currency":"USD"}]}"#.to_owned(),
        format!(r#"{{"items":[{{"kind":"sponsorship","offer_id":"{OFFER}"}}]}}"#),
    ];
    for body in ok {
        assert!(post(&body).get("query").is_some(), "{body}");
    }
    let invalid = [
        r#"[]"#.to_owned(),
        r#"{"items":[]}"#.to_owned(),
        r#"{"items":{}}"#.to_owned(),
        r#"{"items":[1]}"#.to_owned(),
        r#"{"items":[{"kind":"voucher"}]}"#.to_owned(),
        r#"{"items":[{"tier_id":"x"}]}"#.to_owned(),
        r#"{"items":[{"kind":"ticket","quantity":2}]}"#.to_owned(),
        r#"{"items":[{"kind":"ticket","tier_id":"not-a-uuid","quantity":2}]}"#.to_owned(),
        format!(r#"{{"items":[{{"kind":"ticket","tier_id":"{TIER}","quantity":11}}]}}"#),
        format!(r#"{{"items":[{{"kind":"ticket","tier_id":"{TIER}","quantity":"2"}}]}}"#),
        format!(r#"{{"items":[{{"kind":"ticket","tier_id":"{TIER}","quantity":1.5}}]}}"#),
        format!(r#"{{"items":[{{"kind":"ticket","tier_id":"{TIER}","quantity":1,"price":1}}]}}"#),
        format!(r#"{{"items":[{{"kind":"tip","artist_id":"{ARTIST}","amount_minor":0,"currency":"EUR"}}]}}"#),
        format!(r#"{{"items":[{{"kind":"tip","artist_id":"{ARTIST}","amount_minor":500,"currency":"EURO"}}]}}"#),
        format!(r#"{{"items":[{{"kind":"tip","artist_id":"{ARTIST}","amount_minor":500}}]}}"#),
        format!(r#"{{"items":[{{"kind":"drop","product_id":"{PRODUCT}"}}]}}"#),
        r#"{"items":[{"kind":"plan","plan":""}]}"#.to_owned(),
        r#"{"items":[{"kind":"plan","plan":"pro"}],"coupon":"FREE"}"#.to_owned(),
        r#"{"items":[{"kind":"sponsorship"}]}"#.to_owned(),
        r#"{"items":[{"kind":"sponsorship","offer_id":"offer-1"}]}"#.to_owned(),
        format!(r#"{{"items":[{{"kind":"sponsorship","offer_id":"{OFFER}","amount_minor":100}}]}}"#),
    ];
    for body in invalid {
        assert_eq!(error(&post(&body)), (400, "invalid_item".into()), "{body}");
    }
    let two = format!(r#"{{"items":[{{"kind":"membership","artist_id":"{ARTIST}"}},{{"kind":"membership","artist_id":"{ARTIST}"}}]}}"#);
    assert_eq!(error(&post(&two)), (400, "too_many_items".into()));
}

#[test]
fn creates_the_session_stripe_is_asked_for_and_answers_it() {
    let mut calls = Vec::new();
    let (answer, steps) = run(
        TICKETS,
        Ok(ticket_checkout()),
        |step| {
            calls.push(step["http"]["calls"][0].clone());
            answered(200, stripe_session())
        },
        |step| {
            assert_eq!(
                step["query"]["sql"],
                "select treasury.checkout_opened($1::uuid, $2::jsonb) as checkout"
            );
            assert_eq!(step["query"]["role"], "authenticated");
            assert_eq!(step["query"]["claims"], user_claims());
            assert_eq!(
                step["query"]["params"],
                json!([CHECKOUT, { "id": "cs_test_a1", "url": "https://checkout.stripe.com/c/pay/cs_test_a1", "expires_at": EXPIRES }])
            );
            let mut opened = ticket_checkout();
            opened["status"] = json!("open");
            opened["session"] = json!({ "id": "cs_test_a1", "url": "https://checkout.stripe.com/c/pay/cs_test_a1", "expires_at": EXPIRES });
            Ok(json!([{ "checkout": opened }]))
        },
    );
    assert_eq!(steps.len(), 3, "begin, Stripe, opened");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call["method"], "POST");
    assert_eq!(call["url"], "http://127.0.0.1:54340/v1/checkout/sessions");
    assert_eq!(call["headers"]["idempotency-key"], format!("buckets_checkout_{CHECKOUT}"));
    assert_eq!(call["headers"]["authorization"], "Bearer sk_test_key");
    assert_eq!(call["headers"]["stripe-version"], crate::stripe_api::STRIPE_VERSION);
    assert_eq!(call["headers"]["content-type"], "application/x-www-form-urlencoded");
    let expected: Vec<(String, String)> = [
        (
            "cancel_url",
            format!("https://app.buckets.test/checkout/cancel?checkout_id={CHECKOUT}"),
        ),
        ("client_reference_id", USER.to_owned()),
        ("customer_email", "ada@example.com".to_owned()),
        ("expires_at", EXPIRES.to_string()),
        ("line_items[0][price_data][currency]", "eur".to_owned()),
        ("line_items[0][price_data][product_data][name]", "Live · General".to_owned()),
        ("line_items[0][price_data][unit_amount]", "2500".to_owned()),
        ("line_items[0][quantity]", "2".to_owned()),
        ("metadata[buyer_id]", USER.to_owned()),
        ("metadata[checkout_id]", CHECKOUT.to_owned()),
        ("metadata[event_id]", ARTIST.to_owned()),
        ("metadata[order_id]", ORDER.to_owned()),
        ("metadata[product_id]", PRODUCT.to_owned()),
        ("metadata[quantity]", "2".to_owned()),
        ("metadata[tier_id]", TIER.to_owned()),
        ("mode", "payment".to_owned()),
        ("payment_intent_data[metadata][buyer_id]", USER.to_owned()),
        ("payment_intent_data[metadata][checkout_id]", CHECKOUT.to_owned()),
        ("payment_intent_data[metadata][event_id]", ARTIST.to_owned()),
        ("payment_intent_data[metadata][order_id]", ORDER.to_owned()),
        ("payment_intent_data[metadata][product_id]", PRODUCT.to_owned()),
        ("payment_intent_data[metadata][quantity]", "2".to_owned()),
        ("payment_intent_data[metadata][tier_id]", TIER.to_owned()),
        (
            "success_url",
            format!("https://app.buckets.test/checkout/success?checkout_id={CHECKOUT}&session_id={{CHECKOUT_SESSION_ID}}"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(form(call["body"].as_str().unwrap()), expected);
    assert_eq!(answer["respond"]["status"], 201);
    assert_eq!(
        serde_json::from_str::<Value>(answer["respond"]["body"].as_str().unwrap()).unwrap(),
        json!({ "id": "cs_test_a1", "url": "https://checkout.stripe.com/c/pay/cs_test_a1", "expires_at": EXPIRES, "checkout_id": CHECKOUT })
    );
}

#[test]
fn a_subscription_names_the_customer_stripe_knows() {
    let metadata = json!({ "buyer_id": USER, "kind": "plan", "plan": "pro", "checkout_id": CHECKOUT });
    let checkout = json!({
        "checkout_id": CHECKOUT, "status": "creating", "kind": "plan", "mode": "subscription",
        "idempotency_key": format!("buckets_checkout_{CHECKOUT}"),
        "session_params": {
            "mode": "subscription", "customer": "cus_known",
            "line_items": [{ "price_data": { "currency": "eur", "unit_amount": 1499, "recurring": { "interval": "month" },
                                             "product_data": { "name": "Coliseum Pro plan" } }, "quantity": 1 }],
            "metadata": metadata, "subscription_data": { "metadata": metadata },
            "client_reference_id": USER, "expires_at": EXPIRES,
        }
    });
    let request = session_request(&checkout, &user_claims(), "https://app.buckets.test").unwrap();
    let sent = form(&stripe_api::encode(&request.params));
    let value = |key: &str| sent.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    assert_eq!(value("customer"), Some("cus_known"));
    assert_eq!(value("customer_email"), None, "Stripe refuses customer_email beside customer");
    assert_eq!(value("line_items[0][price_data][recurring][interval]"), Some("month"));
    assert_eq!(value("subscription_data[metadata][plan]"), Some("pro"));
    assert_eq!(value("subscription_data[metadata][kind]"), Some("plan"));
    assert_eq!(value("mode"), Some("subscription"));
    assert_eq!(
        request.idempotency_key.as_deref(),
        Some(format!("buckets_checkout_{CHECKOUT}").as_str())
    );
}

#[test]
fn a_retried_request_whose_session_exists_is_answered_without_stripe() {
    let mut open = ticket_checkout();
    open["status"] = json!("open");
    open["session"] = json!({ "id": "cs_test_a1", "url": "https://checkout.stripe.com/c/pay/cs_test_a1", "expires_at": EXPIRES });
    let (answer, steps) = run(TICKETS, Ok(open), |_| panic!("Stripe is not called"), |_| panic!("no more queries"));
    assert_eq!(steps.len(), 1);
    assert_eq!(answer["respond"]["status"], 201);
}

#[test]
fn a_refusal_fails_the_checkout_and_says_so() {
    let mut failed_with = None;
    let (answer, _) = run(
        TICKETS,
        Ok(ticket_checkout()),
        |_| {
            answered(
                400,
                json!({ "error": { "type": "invalid_request_error", "code": "parameter_invalid_integer", "message": "Invalid integer" } }),
            )
        },
        |step| {
            assert_eq!(
                step["query"]["sql"],
                "select treasury.checkout_failed($1::uuid, $2::text) as checkout"
            );
            assert_eq!(step["query"]["role"], "authenticated");
            failed_with = Some(step["query"]["params"].clone());
            Ok(json!([{ "checkout": { "checkout_id": CHECKOUT, "status": "failed" } }]))
        },
    );
    assert_eq!(failed_with, Some(json!([CHECKOUT, "provider_refused"])));
    assert_eq!(error(&answer), (502, "provider_refused".into()));
    assert!(answer["log"]["message"].as_str().unwrap().contains("parameter_invalid_integer"));
}

#[test]
fn no_answer_from_stripe_keeps_the_checkout_for_a_retry() {
    let mut rounds = 0;
    let (answer, _) = run(
        TICKETS,
        Ok(ticket_checkout()),
        |step| {
            rounds += 1;
            assert_eq!(
                step["http"]["calls"][0]["headers"]["idempotency-key"],
                format!("buckets_checkout_{CHECKOUT}")
            );
            json!([{ "error": "connection reset" }])
        },
        |_| panic!("the checkout is not failed: a retry with the same key repeats the call"),
    );
    assert_eq!(rounds, outbound::MAX_ATTEMPTS);
    assert_eq!(error(&answer), (503, "payments_unavailable".into()));
}

#[test]
fn without_stripes_key_the_checkout_fails_at_once() {
    let mut env = env();
    env["STRIPE_SECRET_KEY"] = json!(null);
    let mut failed_with = None;
    let (answer, _) = run_as_host(
        "checkout",
        &head("POST", json_headers(&user_token())),
        TICKETS.as_bytes(),
        NOW_MICROS as f64 / 1000.0,
        &env.to_string(),
        &host_jwks(),
        |step| match step["query"]["sql"].as_str() {
            Some(BEGIN_SQL) => Ok(json!([{ "checkout": ticket_checkout() }])),
            _ => {
                failed_with = Some(step["query"]["params"].clone());
                Ok(json!([{ "checkout": { "status": "failed" } }]))
            }
        },
    );
    assert_eq!(failed_with, Some(json!([CHECKOUT, "not_configured"])));
    assert_eq!(error(&answer), (500, "not_configured".into()));
    assert_eq!(answer["log"]["message"], "STRIPE_SECRET_KEY is not set");
}

#[test]
fn the_databases_refusals_keep_their_codes() {
    let cases = [
        ("55000", Some("sold_out"), 409, "sold_out"),
        ("55000", Some("sale_closed"), 409, "sale_closed"),
        ("55000", Some("not_for_sale"), 409, "not_for_sale"),
        ("55000", Some("already_subscribed"), 409, "already_subscribed"),
        ("55000", Some("checkout_closed"), 409, "checkout_closed"),
        ("55000", Some("offer_not_payable"), 409, "offer_not_payable"),
        ("55000", Some("checkout_in_progress"), 409, "checkout_in_progress"),
        ("42501", Some("not_a_payer"), 403, "not_a_payer"),
        ("P0002", Some("unknown_item"), 404, "unknown_item"),
        ("22023", Some("amount_out_of_bounds"), 400, "amount_out_of_bounds"),
        ("22023", Some("unsupported_currency"), 400, "unsupported_currency"),
        ("22023", Some("too_many_items"), 400, "too_many_items"),
        ("22023", Some("client_request_id_reused"), 422, "client_request_id_reused"),
        ("42501", Some("sign_in_required"), 401, "sign_in_required"),
        ("22023", None, 400, "invalid_request"),
        ("53300", None, 503, "unavailable"),
        ("XX000", Some("something_else"), 500, "internal"),
        ("22023", Some("invalid_session"), 500, "internal"),
    ];
    for (sqlstate, detail, status, code) in cases {
        let error_json = json!({ "code": sqlstate, "message": "what happened", "detail": detail });
        let (answer, _) = run(
            TICKETS,
            Err(error_json),
            |_| panic!("no Stripe call"),
            |_| panic!("no more queries"),
        );
        assert_eq!(error(&answer), (status, code.to_owned()), "{sqlstate} {detail:?}");
    }
}
