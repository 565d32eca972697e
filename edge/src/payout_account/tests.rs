//! payout-account through the host protocol: who may call, the Express
//! account made once (its idempotency key from the user id), recorded as the
//! payee, and the Account Link answered.

use super::*;
use crate::auth::tests::{auth_env, host_jwks, service_key, user_token, NOW_MICROS, USER};
use crate::tests::{answered, calls_of, drive, handle_as_host, post_head};

const WALLET: &str = "BKT-7K3M-Q9XZ-4";
const REQUEST_ID: &str = "5b5b5b5b-0000-4000-8000-000000000001";

fn env() -> Value {
    let mut env = auth_env();
    env["STRIPE_SECRET_KEY"] = json!("sk_test_key");
    env["STRIPE_API_BASE"] = json!("http://127.0.0.1:54340");
    env["APP_URL"] = json!("https://app.buckets.test/");
    env
}

fn head(token: Option<&str>, request_id: &str) -> Value {
    post_head("payout-account", token, request_id)
}

fn account(stripe_account: Option<&str>) -> Value {
    json!([{ "account": { "user_id": USER, "wallet_id": WALLET, "stripe_account_id": stripe_account,
                          "verification": "unverified", "email": "ada@example.com" } }])
}

/// Stripe as the stand-in answers an account and a link.
fn stripe(call: &Value) -> Value {
    if call["url"].as_str().unwrap().ends_with("/v1/accounts") {
        // Stripe answers the account with the metadata it was made with.
        let form = call["form"].clone();
        answered(
            200,
            &json!({ "id": "acct_1Made", "object": "account", "type": "express",
                     "metadata": { "user_id": form["metadata[user_id]"], "wallet_id": form["metadata[wallet_id]"] } }),
        )
    } else {
        answered(
            200,
            &json!({ "object": "account_link", "url": "https://connect.stripe.com/setup/e/acct_1Made/x",
                     "created": 1_800_000_000, "expires_at": 1_800_000_300 }),
        )
    }
}

/// Runs a request of the payee with `body`; the database answers `first` to
/// `payout_account()` and `recorded` to `record_payout_account`.
fn run(
    body: &[u8],
    request_id: &str,
    first: Value,
    recorded: Result<Value, Value>,
    answer: impl FnMut(&Value) -> Value,
) -> (Value, Vec<Value>) {
    let db = |step: &Value| match step["state"]["step"].as_str() {
        Some("account") => Ok(first.clone()),
        _ => recorded.clone(),
    };
    drive("payout-account", &head(Some(&user_token()), request_id), body, &env(), db, answer)
}

fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["respond"]["body"].as_str().unwrap()).unwrap()
}

#[test]
fn a_new_payee_gets_an_express_account_recorded_and_a_link() {
    let (answer, steps) = run(
        br#"{"country": "fr"}"#,
        REQUEST_ID,
        account(None),
        Ok(account(Some("acct_1Made"))),
        stripe,
    );
    assert_eq!(answer["respond"]["status"], 200, "{answer}");
    assert_eq!(
        body(&answer),
        json!({ "url": "https://connect.stripe.com/setup/e/acct_1Made/x", "expires_at": 1_800_000_300, "account_id": "acct_1Made" })
    );
    assert_eq!(steps.len(), 4);

    assert_eq!(steps[0]["query"]["sql"], ACCOUNT_SQL);
    assert_eq!(steps[0]["query"]["role"], "authenticated", "read as the payee");
    assert_eq!(steps[0]["query"]["claims"]["sub"], USER);

    let create = &calls_of(&steps[1])[0];
    assert_eq!(create["url"], "http://127.0.0.1:54340/v1/accounts");
    assert_eq!(
        create["form"],
        json!({ "type": "express", "country": "FR", "email": "ada@example.com",
                "capabilities[transfers][requested]": "true",
                "settings[payouts][schedule][interval]": "manual",
                "metadata[user_id]": USER, "metadata[wallet_id]": WALLET })
    );
    assert_eq!(create["headers"]["idempotency-key"], format!("buckets_connect_account_{USER}"));
    assert!(create["headers"].get("stripe-account").is_none());

    assert_eq!(steps[2]["query"]["sql"], RECORD_SQL);
    assert_eq!(steps[2]["query"]["params"], json!(["acct_1Made", USER]));
    assert_eq!(
        steps[2]["query"]["role"], "service_role",
        "recorded by the function, for the payee's own wallet"
    );

    let link = &calls_of(&steps[3])[0];
    assert_eq!(link["url"], "http://127.0.0.1:54340/v1/account_links");
    assert_eq!(
        link["form"],
        json!({ "account": "acct_1Made", "type": "account_onboarding",
                "refresh_url": "https://app.buckets.test/payouts/onboarding/refresh",
                "return_url": "https://app.buckets.test/payouts/onboarding/return" })
    );
    assert_eq!(
        link["headers"]["idempotency-key"],
        format!("buckets_account_link_acct_1Made_{REQUEST_ID}")
    );
}

#[test]
fn an_onboarded_payee_gets_a_fresh_link_to_the_same_account() {
    let (answer, steps) = run(b"", REQUEST_ID, account(Some("acct_1Made")), Err(json!(null)), stripe);
    assert_eq!(body(&answer)["account_id"], "acct_1Made");
    assert_eq!(steps.len(), 2, "no account made, nothing recorded");
    assert!(calls_of(&steps[1])[0]["url"].as_str().unwrap().ends_with("/v1/account_links"));
}

#[test]
fn two_requests_at_once_ask_for_one_account() {
    let keys: Vec<(Value, Value)> = ["5b5b5b5b-0000-4000-8000-000000000002", "5b5b5b5b-0000-4000-8000-000000000003"]
        .into_iter()
        .map(|request_id| {
            let (_, steps) = run(b"{}", request_id, account(None), Ok(account(Some("acct_1Made"))), stripe);
            (
                calls_of(&steps[1])[0]["headers"]["idempotency-key"].clone(),
                calls_of(&steps[3])[0]["headers"]["idempotency-key"].clone(),
            )
        })
        .collect();
    assert_eq!(keys[0].0, keys[1].0, "the account's key is the payee's: Stripe makes one account");
    assert_ne!(keys[0].1, keys[1].1, "each request gets its own single-use link");
}

#[test]
fn stripe_refusing_a_second_request_with_other_details_is_a_conflict() {
    let (answer, _) = run(br#"{"country": "DE"}"#, REQUEST_ID, account(None), Err(json!(null)), |_| {
        answered(
            400,
            &json!({ "error": { "type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters" } }),
        )
    });
    assert_eq!(answer["respond"]["status"], 409);
    assert_eq!(body(&answer)["code"], "onboarding_in_progress");
}

#[test]
fn a_payee_with_another_account_is_a_conflict() {
    let refused = json!({ "code": "55000", "message": "wallet BKT-7K3M-Q9XZ-4 already pays out to acct_old" });
    let (answer, _) = run(b"", REQUEST_ID, account(None), Err(refused), stripe);
    assert_eq!(answer["respond"]["status"], 409);
    assert_eq!(
        body(&answer),
        json!({ "code": "payout_account_conflict", "message": "wallet BKT-7K3M-Q9XZ-4 already pays out to acct_old" })
    );
}

#[test]
fn who_may_call_and_what_they_may_send() {
    let call = |token: Option<String>, body: &[u8], env: &Value| {
        handle_as_host(
            "payout-account",
            &head(token.as_deref(), REQUEST_ID),
            body,
            NOW_MICROS as f64 / 1000.0,
            &env.to_string(),
            &host_jwks(),
        )
    };
    assert_eq!(call(None, b"", &env())["respond"]["status"], 401);
    assert_eq!(
        call(Some(service_key()), b"", &env())["respond"]["status"],
        403,
        "a payee onboards themself"
    );
    for (bad, code) in [
        (&br#"{"country": "FRA"}"#[..], "invalid_country"),
        (br#"{"country": 33}"#, "invalid_country"),
        (br#"{"user_id": "someone"}"#, "invalid_body"),
        (b"not json", "invalid_body"),
    ] {
        let answer = call(Some(user_token()), bad, &env());
        assert_eq!(answer["respond"]["status"], 400, "{answer}");
        assert_eq!(body(&answer)["code"], code);
    }
    let mut no_app = env();
    no_app.as_object_mut().unwrap().remove("APP_URL");
    let answer = call(Some(user_token()), b"", &no_app);
    assert_eq!(answer["respond"]["status"], 500);
    assert!(answer["log"]["message"].as_str().unwrap().contains("APP_URL"));
}

#[test]
fn an_account_stripe_made_for_someone_else_is_not_recorded() {
    let (answer, steps) = run(b"{}", REQUEST_ID, account(None), Ok(account(Some("acct_1Other"))), |_| {
        answered(
            200,
            &json!({ "id": "acct_1Other", "object": "account", "metadata": { "user_id": "someone-else" } }),
        )
    });
    assert_eq!(answer["respond"]["status"], 500, "{answer}");
    assert!(steps.iter().all(|s| s["query"]["sql"] != RECORD_SQL), "nothing recorded");
}
