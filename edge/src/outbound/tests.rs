use super::*;
use crate::stripe_api::{self, StripeRequest};
use crate::Env;
use serde_json::json;

pub(crate) fn stripe_ctx() -> Context {
    Context {
        now_micros: 1_800_000_000_123_456,
        env: Env {
            stripe_secret_key: Some("sk_test_key".into()),
            stripe_api_base: Some("http://127.0.0.1:54340".into()),
            ..Env::default()
        },
        ..Context::default()
    }
}

pub(crate) fn resend_ctx() -> Context {
    Context {
        now_micros: 1_800_000_000_123_456,
        env: Env {
            resend_api_key: Some("re_test_key".into()),
            resend_api_base: Some("http://127.0.0.1:54341".into()),
            receipts_from: Some("Buckets <receipts@buckets.test>".into()),
            ..Env::default()
        },
        ..Context::default()
    }
}

fn answered(status: u16, headers: &[(&str, &str)], body: Value) -> HttpResult {
    HttpResult::Answered {
        status,
        headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        body: body.to_string(),
    }
}

fn stripe_error(kind: &str, code: &str, message: &str) -> Value {
    json!({ "error": { "type": kind, "code": code, "message": message } })
}

/// Two calls: a transfer and a payout on the connected account.
fn two_calls(ctx: &Context) -> Action {
    let transfer = StripeRequest::post(
        "/v1/transfers",
        json!({"amount": 5000, "currency": "eur"}),
        "buckets_payout_p_1_transfer",
    );
    let payout = StripeRequest::post(
        "/v1/payouts",
        json!({"amount": 5000, "currency": "eur"}),
        "buckets_payout_p_1_payout",
    )
    .on_account("acct_1");
    stripe_api::call(ctx, vec![transfer, payout], json!({"mine": [1, 2]})).unwrap()
}

fn http_parts(action: &Action) -> (&Vec<Outbound>, u64, &Value) {
    match action {
        Action::Http { calls, delay_ms, state } => (calls, *delay_ms, state),
        other => panic!("not an HTTP action: {other:?}"),
    }
}

fn settle_ok(state: &Value, results: &[HttpResult], ctx: &Context) -> Settled {
    settle(state, results, ctx).unwrap()
}

#[test]
fn calls_carry_the_key_the_version_and_the_idempotency_key_and_the_state_no_secret() {
    let ctx = stripe_ctx();
    let action = two_calls(&ctx);
    let (calls, delay_ms, state) = http_parts(&action);
    assert_eq!(delay_ms, 0);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].url, "http://127.0.0.1:54340/v1/transfers");
    assert_eq!(calls[0].body, "amount=5000&currency=eur");
    let h = &calls[0].headers;
    assert_eq!(h["authorization"], "Bearer sk_test_key");
    assert_eq!(h["stripe-version"], "2026-10-28.endive");
    assert_eq!(h["idempotency-key"], "buckets_payout_p_1_transfer");
    assert_eq!(h["content-type"], "application/x-www-form-urlencoded");
    assert!(!h.contains_key("stripe-account"));
    assert_eq!(calls[1].headers["stripe-account"], "acct_1");
    assert!(!state.to_string().contains("sk_test_key"), "{state}");
}

#[test]
fn an_unusable_configuration_is_not_configured() {
    let cases: [(Option<&str>, Option<&str>); 5] = [
        (None, None),
        (Some(""), None),
        (Some("pk_test_publishable"), None),
        (Some("sk_test_key"), Some("http://api.stripe.example")),
        (Some("sk_test_key"), Some("ftp://127.0.0.1")),
    ];
    for (key, base) in cases {
        let mut ctx = stripe_ctx();
        ctx.env.stripe_secret_key = key.map(Into::into);
        ctx.env.stripe_api_base = base.map(Into::into);
        let refused = stripe_api::call(&ctx, vec![StripeRequest::get("/v1/accounts/acct_1")], Value::Null).unwrap_err();
        assert_eq!(refused.status, 500, "{key:?} {base:?}");
        assert!(refused.body.contains("not_configured"));
        assert!(!refused.body.contains("sk_"), "{}", refused.body);
        assert!(refused.log_message.is_some());
    }
    for base in [
        None,
        Some("https://api.stripe.com/"),
        Some("http://localhost:54340"),
        Some("http://[::1]:1"),
    ] {
        let mut ctx = stripe_ctx();
        ctx.env.stripe_api_base = base.map(Into::into);
        let action = stripe_api::call(&ctx, vec![StripeRequest::get("/v1/accounts/acct_1")], Value::Null).unwrap();
        let (calls, ..) = http_parts(&action);
        assert!(
            calls[0].url.ends_with("/v1/accounts/acct_1") && !calls[0].url.contains("//v1"),
            "{}",
            calls[0].url
        );
    }
}

#[test]
fn the_keys_mode_must_be_the_deployments() {
    for (key, livemode, ok) in [
        ("sk_test_key", None, true),
        ("sk_test_key", Some("false"), true),
        ("sk_live_key", Some("true"), true),
        ("rk_live_key", Some("true"), true),
        ("sk_live_key", None, false),
        ("rk_live_key", Some("false"), false),
        ("sk_test_key", Some("true"), false),
        ("sk_test_key", Some("yes"), false),
    ] {
        let mut ctx = stripe_ctx();
        ctx.env.stripe_secret_key = Some(key.into());
        ctx.env.stripe_livemode = livemode.map(Into::into);
        let result = stripe_api::call(&ctx, vec![StripeRequest::get("/v1/accounts/acct_1")], Value::Null);
        assert_eq!(result.is_ok(), ok, "{key} with STRIPE_LIVEMODE={livemode:?}");
        if let Err(refused) = result {
            assert!(refused.body.contains("not_configured"));
            assert!(refused.log_message.unwrap().contains("STRIPE_LIVEMODE"));
        }
    }
}

#[test]
fn successes_come_back_in_order_with_the_handlers_state() {
    let ctx = stripe_ctx();
    let action = two_calls(&ctx);
    let (_, _, state) = http_parts(&action);
    let results = [
        answered(200, &[("request-id", "req_1")], json!({"id": "tr_1", "object": "transfer"})),
        answered(200, &[], json!({"id": "po_1", "object": "payout"})),
    ];
    let Settled::Done { results, state } = settle_ok(state, &results, &ctx) else {
        panic!("not done")
    };
    assert_eq!(state, json!({"mine": [1, 2]}));
    assert_eq!(results[0].as_ref().unwrap()["id"], "tr_1");
    assert_eq!(results[1].as_ref().unwrap()["id"], "po_1");
}

#[test]
fn only_the_failed_call_is_retried_after_a_backoff_with_the_same_key() {
    let ctx = stripe_ctx();
    let first = two_calls(&ctx);
    let (_, _, state) = http_parts(&first);
    let results = [
        answered(200, &[], json!({"id": "tr_1"})),
        answered(500, &[], stripe_error("api_error", "", "Something went wrong")),
    ];
    let Settled::Again(second) = settle_ok(state, &results, &ctx) else {
        panic!("not retried")
    };
    let (calls, delay_ms, state) = http_parts(&second);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].headers["idempotency-key"], "buckets_payout_p_1_payout");
    assert_eq!(calls[0].headers["stripe-account"], "acct_1");
    assert!((FIRST_BACKOFF_MS * 3 / 4..=FIRST_BACKOFF_MS).contains(&delay_ms), "{delay_ms}");
    let Settled::Done { results, .. } = settle_ok(state, &[answered(200, &[], json!({"id": "po_1"}))], &ctx) else {
        panic!("not done")
    };
    assert_eq!(results[0].as_ref().unwrap()["id"], "tr_1");
    assert_eq!(results[1].as_ref().unwrap()["id"], "po_1");
}

#[test]
fn transient_failures_are_retried_up_to_the_limit_then_reported() {
    let ctx = stripe_ctx();
    for failure in [
        HttpResult::Failed {
            error: "connection refused".into(),
        },
        answered(429, &[], stripe_error("invalid_request_error", "rate_limit", "Too many requests")),
        answered(409, &[], stripe_error("idempotency_error", "", "in progress")),
        answered(503, &[], Value::Null),
        answered(
            400,
            &[("stripe-should-retry", "true")],
            stripe_error("invalid_request_error", "lock_timeout", ""),
        ),
    ] {
        let mut action = stripe_api::call(&ctx, vec![StripeRequest::get("/v1/accounts/acct_1")], json!(7)).unwrap();
        let mut delays = Vec::new();
        let (results, state) = loop {
            let (_, delay_ms, state) = http_parts(&action);
            delays.push(delay_ms);
            match settle_ok(state, std::slice::from_ref(&failure), &ctx) {
                Settled::Again(next) => action = next,
                Settled::Done { results, state } => break (results, state),
            }
        };
        assert_eq!(delays.len() as u32, MAX_ATTEMPTS, "{failure:?}");
        assert_eq!(delays[0], 0);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert!(delays.iter().all(|&d| d <= MAX_BACKOFF_MS));
        assert_eq!(state, json!(7));
        let error = results[0].as_ref().unwrap_err();
        assert!(error.is_transient(), "{error:?}");
        let response = error.response();
        assert_eq!(response.status, 503);
        assert!(response.body.contains("payments_unavailable"));
        assert_eq!(response.headers["retry-after"], "5");
    }
}

#[test]
fn refusals_are_final_and_map_to_stable_codes() {
    let ctx = stripe_ctx();
    let cases = [
        (
            answered(
                400,
                &[("request-id", "req_9")],
                stripe_error("invalid_request_error", "parameter_missing", "Missing required param: amount."),
            ),
            502,
            "provider_refused",
        ),
        (
            answered(
                404,
                &[],
                stripe_error("invalid_request_error", "resource_missing", "No such account: 'acct_x'"),
            ),
            502,
            "provider_refused",
        ),
        (
            answered(
                400,
                &[],
                stripe_error(
                    "idempotency_error",
                    "",
                    "Keys for idempotent requests can only be used with the same parameters",
                ),
            ),
            502,
            "provider_refused",
        ),
        (
            answered(
                401,
                &[],
                stripe_error("invalid_request_error", "", "Invalid API Key provided: sk_test_****"),
            ),
            500,
            "not_configured",
        ),
        (
            answered(402, &[], stripe_error("card_error", "card_declined", "Your card was declined.")),
            402,
            "payment_declined",
        ),
        (
            answered(500, &[("stripe-should-retry", "false")], stripe_error("api_error", "", "no")),
            502,
            "provider_refused",
        ),
        (answered(200, &[], Value::Null), 0, ""),
    ];
    for (result, status, code) in cases {
        let action = stripe_api::call(&ctx, vec![StripeRequest::get("/v1/accounts/acct_1")], Value::Null).unwrap();
        let (_, _, state) = http_parts(&action);
        let Settled::Done { results, .. } = settle_ok(state, std::slice::from_ref(&result), &ctx) else {
            panic!("{result:?} was retried")
        };
        let Err(error) = &results[0] else {
            assert_eq!(status, 0, "{result:?}");
            continue;
        };
        let response = error.response();
        assert_eq!(response.status, status, "{result:?}");
        let body: Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(body["code"], code);
        if code == "payment_declined" {
            assert_eq!(body["message"], "Your card was declined.");
        } else {
            // Stripe's words go to the log, with its request id.
            assert!(!response.body.contains("Stripe answered"));
            assert!(response.log_message.as_deref().unwrap().contains(error.message.as_str()));
        }
    }
    let action = stripe_api::call(&ctx, vec![StripeRequest::get("/v1/accounts/acct_1")], Value::Null).unwrap();
    let (_, _, state) = http_parts(&action);
    let result = answered(
        400,
        &[("request-id", "req_9")],
        stripe_error("invalid_request_error", "parameter_missing", "Missing amount."),
    );
    let Settled::Done { results, .. } = settle_ok(state, &[result], &ctx) else {
        panic!()
    };
    assert_eq!(
        results[0].as_ref().unwrap_err(),
        &ApiError {
            service: Service::Stripe,
            status: Some(400),
            kind: "invalid_request_error".into(),
            code: Some("parameter_missing".into()),
            message: "Missing amount.".into(),
            request_id: Some("req_9".into()),
            retryable: false,
        }
    );
}

#[test]
fn a_retry_after_is_honoured_within_the_cap() {
    let ctx = stripe_ctx();
    for (retry_after, expected) in [("2", 2_000), ("600", MAX_BACKOFF_MS)] {
        let action = stripe_api::call(&ctx, vec![StripeRequest::get("/v1/accounts/acct_1")], Value::Null).unwrap();
        let (_, _, state) = http_parts(&action);
        let result = answered(429, &[("retry-after", retry_after)], Value::Null);
        let Settled::Again(again) = settle_ok(state, &[result], &ctx) else {
            panic!()
        };
        assert_eq!(http_parts(&again).1, expected);
    }
}

#[test]
fn resend_errors_are_read_from_its_shape() {
    let ctx = resend_ctx();
    let batch = crate::resend::Batch {
        idempotency_key: "receipts/1".into(),
        emails: vec![crate::resend::Email {
            from: "a@b.c".into(),
            to: vec!["d@e.f".into()],
            subject: "s".into(),
            html: "h".into(),
            text: "t".into(),
        }],
    };
    let action = crate::resend::send_batches(&ctx, vec![batch], Value::Null).unwrap();
    let (_, _, state) = http_parts(&action);
    let result = answered(
        422,
        &[],
        json!({"statusCode": 422, "name": "validation_error", "message": "Invalid `to` field."}),
    );
    let Settled::Done { results, .. } = settle_ok(state, &[result], &ctx) else {
        panic!()
    };
    let error = results[0].as_ref().unwrap_err();
    assert_eq!(
        (error.kind.as_str(), error.message.as_str()),
        ("validation_error", "Invalid `to` field.")
    );
    assert_eq!(error.response().status, 502);
    let unavailable = ApiError {
        status: Some(503),
        retryable: true,
        ..error.clone()
    };
    assert!(unavailable.response().body.contains("email_unavailable"));
}

#[test]
fn the_host_must_answer_one_result_per_pending_call() {
    let ctx = stripe_ctx();
    let action = two_calls(&ctx);
    let (_, _, state) = http_parts(&action);
    assert_eq!(settle(state, &[answered(200, &[], json!({}))], &ctx).unwrap_err().status, 500);
    assert_eq!(settle(&json!({"other": 1}), &[], &ctx).unwrap_err().status, 500);
}

#[test]
fn backoff_doubles_within_bounds_with_jitter() {
    for now in [0, 1, 1_800_000_000_123_456, i64::MAX, -5] {
        let waits: Vec<u64> = (1..=6).map(|a| backoff(a, now)).collect();
        for (i, &w) in waits.iter().enumerate() {
            let full = (FIRST_BACKOFF_MS << i).min(MAX_BACKOFF_MS);
            assert!((full - full / 4..=full).contains(&w), "attempt {} now {now}: {w}", i + 1);
        }
    }
    assert_ne!(backoff(1, 1), backoff(1, 2_000_003));
}
