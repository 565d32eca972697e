//! A handler's `http` action with the Worker's `fetch`: each call made as
//! given (no redirect followed, no retry: the handler decides, see
//! `buckets_edge::outbound`), all at once, each answer reported whatever its
//! status, or `{"error"}` when none came within the timeout.

use serde_json::{json, Map, Value};
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::{AbortController, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

pub async fn perform_all(calls: &[Value], timeout: Duration) -> Vec<Value> {
    futures_util::future::join_all(calls.iter().map(|call| perform(call, timeout))).await
}

async fn perform(call: &Value, timeout: Duration) -> Value {
    let method = call["method"].as_str().unwrap_or("GET");
    let url = call["url"].as_str().unwrap_or_default();
    let controller = AbortController::default();
    let signal = controller.signal();
    let answer = async {
        let request = request(method, url, call).map_err(|e| e.to_string())?;
        let mut response = Fetch::Request(request).send_with_signal(&signal).await.map_err(|e| e.to_string())?;
        let headers: Map<String, Value> = response.headers().entries().map(|(n, v)| (n, Value::String(v))).collect();
        let body = response.text().await.map_err(|e| e.to_string())?;
        Ok(json!({ "status": response.status_code(), "headers": headers, "body": body }))
    };
    crate::within(timeout, controller, answer).await.unwrap_or_else(|e| {
        // The URL's origin only: a query string may carry what the log should not.
        json!({ "error": format!("{method} {}: {e}", origin_of(url)) })
    })
}

fn request(method: &str, url: &str, call: &Value) -> worker::Result<Request> {
    let headers = Headers::new();
    for (name, value) in call["headers"].as_object().into_iter().flatten() {
        headers.set(name, value.as_str().unwrap_or_default())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(method.to_owned()))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if method != "GET" && method != "HEAD" {
        init.with_body(Some(JsValue::from_str(call["body"].as_str().unwrap_or_default())));
    }
    Request::new_with_init(url, &init)
}

fn origin_of(url: &str) -> String {
    worker::Url::parse(url).map_or_else(|_| "(an invalid URL)".to_owned(), |u| u.origin().ascii_serialization())
}
