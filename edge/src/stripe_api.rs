//! Requests to Stripe's API, made as Stripe's own libraries make them:
//! form-encoded parameters with nested objects and arrays in brackets
//! (`line_items[0][price_data][currency]=eur`), `Authorization: Bearer` with
//! `STRIPE_SECRET_KEY`, the pinned [`STRIPE_VERSION`], an `Idempotency-Key`
//! on every `POST`, and `Stripe-Account` for calls on a connected account.
//! Retries and errors are [`outbound`]'s.
//!
//! Idempotency keys are derived from our own ids (`buckets_checkout_<uuid>`,
//! `buckets_payout_<uuid>_<n>_transfer`, …): a request repeated after a crash
//! between Stripe's answer and our commit sends the same key, and Stripe
//! answers it with the object it made the first time instead of making a
//! second. Stripe keeps keys for at least 24 hours.

use crate::http::{Action, Response};
use crate::outbound::{self, Call, Service};
use crate::Context;
use serde_json::Value;

/// The API version every request pins: the one the `stripe` npm package of
/// package.json (23.1.0) is typed for (`Stripe.API_VERSION`), against which
/// the tests check our requests (tests/standin/stripe.test.ts fails when the
/// two differ). Create the webhook endpoint with the same version, so events
/// and API objects have one shape.
pub const STRIPE_VERSION: &str = "2026-10-28.endive";
pub const DEFAULT_BASE: &str = "https://api.stripe.com";
/// Stripe's limit on an `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// One request to Stripe. `params` is a JSON object: sent form-encoded in
/// the body of a `POST`, in the query string otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeRequest {
    pub method: &'static str,
    /// From the API root: `/v1/checkout/sessions`.
    pub path: String,
    pub params: Value,
    pub idempotency_key: Option<String>,
    /// A connected account (`acct_…`) to act on, as `Stripe-Account`.
    pub account: Option<String>,
}

impl StripeRequest {
    /// A `POST` with its idempotency key: nothing is created without one.
    pub fn post(path: impl Into<String>, params: Value, idempotency_key: impl Into<String>) -> Self {
        StripeRequest {
            method: "POST",
            path: path.into(),
            params,
            idempotency_key: Some(idempotency_key.into()),
            account: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        StripeRequest {
            method: "GET",
            path: path.into(),
            params: Value::Null,
            idempotency_key: None,
            account: None,
        }
    }

    pub fn on_account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    fn into_call(self) -> Call {
        let encoded = encode(&self.params);
        let (path, body, content_type) = if self.method == "POST" {
            (self.path, encoded, Some("application/x-www-form-urlencoded".to_owned()))
        } else if encoded.is_empty() {
            (self.path, String::new(), None)
        } else {
            (format!("{}?{encoded}", self.path), String::new(), None)
        };
        Call {
            service: Service::Stripe,
            method: self.method.to_owned(),
            path,
            content_type,
            body,
            idempotency_key: self.idempotency_key,
            account: self.account,
            headers: Default::default(),
        }
    }
}

/// Makes the requests (concurrently); `received` gets them through
/// [`outbound::settle`], each result Stripe's object or an
/// [`outbound::ApiError`], and `state` back.
pub fn call(ctx: &Context, requests: Vec<StripeRequest>, state: Value) -> Result<Action, Response> {
    if let Some(bad) = requests
        .iter()
        .filter_map(|r| r.idempotency_key.as_deref())
        .find(|k| k.is_empty() || k.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS)
    {
        return Err(Response::internal_because(format!(
            "an idempotency key of {} characters",
            bad.chars().count()
        )));
    }
    outbound::start(ctx, requests.into_iter().map(StripeRequest::into_call).collect(), state)
}

/// Form-encodes `params` the way Stripe's libraries do (`qs` with indexed
/// arrays): `a[b][0][c]=v`, booleans as `true`/`false`, numbers as written,
/// `null` as an empty value (which unsets a field); empty objects and arrays
/// send nothing. Keys and values are percent-encoded, brackets included.
pub fn encode(params: &Value) -> String {
    let mut pairs = Vec::new();
    flatten(params, String::new(), &mut pairs);
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in &pairs {
        form.append_pair(key, value);
    }
    form.finish()
}

fn flatten(value: &Value, key: String, pairs: &mut Vec<(String, String)>) {
    let nested = |child: &str| {
        if key.is_empty() {
            child.to_owned()
        } else {
            format!("{key}[{child}]")
        }
    };
    match value {
        Value::Object(map) => {
            for (name, child) in map {
                flatten(child, nested(name), pairs);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                flatten(child, nested(&i.to_string()), pairs);
            }
        }
        _ if key.is_empty() => {}
        Value::Null => pairs.push((key, String::new())),
        Value::String(s) => pairs.push((key, s.clone())),
        Value::Bool(b) => pairs.push((key, b.to_string())),
        Value::Number(n) => pairs.push((key, n.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decoded(form: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(form.as_bytes()).into_owned().collect()
    }

    #[test]
    fn nested_objects_and_arrays_are_bracketed_with_indices() {
        let params = json!({
            "mode": "payment",
            "line_items": [
                {"price_data": {"currency": "eur", "unit_amount": 2500, "product_data": {"name": "Seat — A & B"}}, "quantity": 2}
            ],
            "metadata": {"product_id": "p", "quantity": "2"},
            "expand": ["payment_intent"],
            "allow_promotion_codes": false,
            "customer": null,
            "payment_method_types": [],
            "subscription_data": {}
        });
        assert_eq!(
            decoded(&encode(&params)),
            [
                ("allow_promotion_codes", "false"),
                ("customer", ""),
                ("expand[0]", "payment_intent"),
                ("line_items[0][price_data][currency]", "eur"),
                ("line_items[0][price_data][product_data][name]", "Seat — A & B"),
                ("line_items[0][price_data][unit_amount]", "2500"),
                ("line_items[0][quantity]", "2"),
                ("metadata[product_id]", "p"),
                ("metadata[quantity]", "2"),
                ("mode", "payment"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        // Reserved characters never leak into the structure.
        assert!(!encode(&params).contains(" &"));
        assert_eq!(encode(&Value::Null), "");
        assert_eq!(encode(&json!({})), "");
    }

    #[test]
    fn posts_carry_the_body_and_gets_the_query() {
        let post = StripeRequest::post("/v1/transfers", json!({"amount": 5, "currency": "eur"}), "k1").into_call();
        assert_eq!(
            (post.method.as_str(), post.path.as_str(), post.body.as_str()),
            ("POST", "/v1/transfers", "amount=5&currency=eur")
        );
        assert_eq!(post.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
        assert_eq!(post.idempotency_key.as_deref(), Some("k1"));
        let get = StripeRequest {
            params: json!({"expand": ["subscription"]}),
            ..StripeRequest::get("/v1/checkout/sessions/cs_1")
        }
        .on_account("acct_1")
        .into_call();
        assert_eq!(get.path, "/v1/checkout/sessions/cs_1?expand%5B0%5D=subscription");
        assert_eq!((get.body.as_str(), get.content_type.as_deref()), ("", None));
        assert_eq!(get.account.as_deref(), Some("acct_1"));
        assert_eq!(StripeRequest::get("/v1/accounts/acct_1").into_call().path, "/v1/accounts/acct_1");
    }

    #[test]
    fn idempotency_keys_must_fit_stripes_limit() {
        let ctx = crate::outbound::tests::stripe_ctx();
        let long = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1);
        let refused = call(&ctx, vec![StripeRequest::post("/v1/customers", json!({}), long)], Value::Null).unwrap_err();
        assert_eq!(refused.status, 500);
        let fits = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS);
        assert!(call(&ctx, vec![StripeRequest::post("/v1/customers", json!({}), fits)], Value::Null).is_ok());
    }
}
