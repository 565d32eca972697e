//! The HTTP shapes every handler speaks, and the JSON the Deno host exchanges
//! with the WASM module: a request comes in as its head (method, URL, headers,
//! the host's request id) plus the raw body; a handler answers with an
//! [`Action`]: a response, one SQL query whose rows (or error) come back
//! through `complete` (or `fail`), outbound HTTP calls whose answers come back
//! through `received`, or a request to refresh the JWKS first.

use crate::db::Session;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Browsers may call the functions from any origin, as Supabase's own
/// examples allow; the token, not the origin, is what grants access.
const ALLOW_ORIGIN: &str = "*";
const ALLOW_HEADERS: &str = "authorization, x-client-info, apikey, content-type";

/// An incoming request. Header names are lowercase.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    /// The id the host gave this request (a UUID), for `x-request-id` and the log.
    pub request_id: String,
    pub body: &'a [u8],
}

/// The request as the host describes it in `request_json`.
#[derive(Deserialize)]
struct Head {
    method: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    request_id: String,
}

impl<'a> Request<'a> {
    /// Reads the host's `{"method","url","headers","request_id"}`.
    pub fn from_json(head_json: &str, body: &'a [u8]) -> serde_json::Result<Self> {
        let head: Head = serde_json::from_str(head_json)?;
        let headers = head
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        Ok(Request {
            method: head.method,
            url: head.url,
            headers,
            request_id: head.request_id,
            body,
        })
    }

    /// A header's value by its lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The client's address as the proxies in front of the function report
    /// it, in canonical form: `cf-connecting-ip` (which Cloudflare, in front
    /// of hosted Supabase, sets itself), else `x-real-ip`, else the first
    /// address of `x-forwarded-for` (the local gateway appends the peer it
    /// saw, as a proxy does). None when no header names a valid address.
    ///
    /// Where no proxy overwrites these headers a client can name any address,
    /// so this is a label for grouping what a caller did, never proof of who
    /// it is: whatever keys on it must stay bounded when it is made up.
    pub fn client_address(&self) -> Option<String> {
        let forwarded_first = self.header("x-forwarded-for").and_then(|list| list.split(',').next());
        [self.header("cf-connecting-ip"), self.header("x-real-ip"), forwarded_first]
            .into_iter()
            .flatten()
            .find_map(|value| value.trim().parse::<std::net::IpAddr>().ok())
            .map(|ip| ip.to_canonical().to_string())
    }
}

/// An answer to send. `body` is text; every body this crate writes is JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// For the server's log only, never sent: why the function failed, when
    /// the body must not say (see `lib.rs`).
    #[serde(skip)]
    pub log_message: Option<String>,
}

impl Response {
    /// An empty response carrying the CORS origin header.
    pub fn empty(status: u16) -> Self {
        let headers = BTreeMap::from([("access-control-allow-origin".to_owned(), ALLOW_ORIGIN.to_owned())]);
        Response {
            status,
            headers,
            body: String::new(),
            log_message: None,
        }
    }

    pub fn json(status: u16, body: &Value) -> Self {
        Response {
            body: body.to_string(),
            ..Response::empty(status)
        }
        .with_header("content-type", "application/json")
    }

    /// The error body every function uses: a stable `code` a program can
    /// branch on and a `message` a person can act on.
    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Response::json(status, &json!({ "code": code, "message": message.into() }))
    }

    /// A failure of ours; the detail goes to the server's log, not the caller.
    pub fn internal() -> Self {
        Response::error(500, "internal", "the function failed; retry later or contact support")
    }

    /// [`Response::internal`], with what went wrong for the server's log.
    pub fn internal_because(log_message: impl Into<String>) -> Self {
        Response {
            log_message: Some(log_message.into()),
            ..Response::internal()
        }
    }

    /// The function lacks a setting it needs (a secret, a URL): a 500 that
    /// tells the caller only that, with `why` in the server's log.
    pub fn not_configured(why: impl Into<String>) -> Self {
        Response::error(500, "not_configured", "the function is not configured; the operator must fix it").with_log(why)
    }

    /// Says in the server's log why this answer was given.
    pub fn with_log(mut self, log_message: impl Into<String>) -> Self {
        self.log_message = Some(log_message.into());
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// One SQL statement for the host to run as the session's role with its
/// claims (see [`Session`]). Params are JSON values, bound as text (the host's
/// `pg.ts`): strings as they are, numbers and booleans as Postgres reads them,
/// objects and arrays as JSON, so a `jsonb` placeholder takes an object or an
/// array.
///
/// `shared`: the statement may run in one transaction with other requests'
/// statements marked so (each after its own role and claims), as Postgres's
/// group commit does for separate ones; the host answers each request only
/// after that transaction committed, and runs each alone again when any of
/// them failed. The value is the statement's lock key: the host runs the
/// statements of a transaction in the order of their keys, and statements
/// that lock the same rows name them by the same key, so two such
/// transactions lock those rows in the same order. Only a statement whose
/// result is its own (no outbound call, no state across statements) is
/// marked so: `passport.ingest` (keyed by the user whose rows it writes) and
/// `concierto.redeem` (by the ticket it admits).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    pub sql: &'static str,
    pub params: Vec<Value>,
    #[serde(flatten)]
    pub session: Session,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<String>,
}

/// One outbound HTTP call for the host to make (Stripe's API, Resend's). The
/// host sends it as given and reports what came back as an [`HttpResult`];
/// whether to retry, and how to read the answer, is the handler's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outbound {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// What the host got for an [`Outbound`] call: the answer (any status), or
/// `{"error": ...}` when there was none (connection refused or reset, DNS,
/// TLS, the host's timeout).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum HttpResult {
    Answered {
        status: u16,
        /// Lowercase names.
        #[serde(default)]
        headers: BTreeMap<String, String>,
        #[serde(default)]
        body: String,
    },
    Failed {
        error: String,
    },
}

/// What a handler wants done next. [`Action::to_json`] writes the host
/// protocol: `{"respond":{status,headers,body}}`,
/// `{"query":{"sql","params","role","claims","shared"?},"state":...}`
/// (`shared`: the lock key of a query that may share its transaction; `state`
/// is handed back untouched to `complete` or `fail`),
/// `{"http":{"calls":[{method,url,headers,body}],"delay_ms"},"state":...}`
/// (wait `delay_ms`, make the calls concurrently, hand one [`HttpResult`] per
/// call, in order, and `state` to `received`), or `{"refresh_jwks":true}`
/// (fetch the JWKS again and call `handle` again with `fresh: true`).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Respond(Response),
    /// The query is boxed: an `Action` is also the error of every handler's
    /// `Result`, and is kept small.
    Query {
        query: Box<Query>,
        state: Value,
    },
    Http {
        calls: Vec<Outbound>,
        delay_ms: u64,
        state: Value,
    },
    RefreshJwks,
}

impl Action {
    pub fn respond(response: Response) -> Self {
        Action::Respond(response)
    }

    /// A query run as `session`: there is no way to ask for one without
    /// saying whose it is.
    pub fn query(session: Session, sql: &'static str, params: Vec<Value>, state: Value) -> Self {
        Action::Query {
            query: Box::new(Query {
                sql,
                params,
                session,
                shared: None,
            }),
            state,
        }
    }

    /// Marks a query as one that may share its transaction, ordered there by
    /// `lock_key` ([`Query`]'s `shared`).
    pub fn shared(mut self, lock_key: impl Into<String>) -> Self {
        if let Action::Query { query, .. } = &mut self {
            query.shared = Some(lock_key.into());
        }
        self
    }

    pub fn to_json(&self) -> String {
        let action = match self {
            Action::Respond(response) => json!({ "respond": response }),
            Action::Query { query, state } => json!({ "query": query, "state": state }),
            Action::Http { calls, delay_ms, state } => {
                json!({ "http": { "calls": calls, "delay_ms": delay_ms }, "state": state })
            }
            Action::RefreshJwks => json!({ "refresh_jwks": true }),
        };
        action.to_string()
    }
}

/// A handler's refusals are responses; `?` turns them into the action that
/// ends the request.
impl From<Response> for Action {
    fn from(response: Response) -> Self {
        Action::Respond(response)
    }
}

/// Lets `method` through; answers a CORS preflight with 204 and any other
/// method with 405.
pub fn expect_method(request: &Request, method: &str) -> Result<(), Response> {
    match request.method.as_str() {
        m if m == method => Ok(()),
        "OPTIONS" => Err(Response::empty(204)
            .with_header("access-control-allow-headers", ALLOW_HEADERS)
            .with_header("access-control-allow-methods", &format!("{method}, OPTIONS"))
            .with_header("access-control-max-age", "86400")),
        other => Err(
            Response::error(405, "method_not_allowed", format!("{other} is not allowed here; use {method}"))
                .with_header("allow", &format!("{method}, OPTIONS")),
        ),
    }
}

/// Accepts `application/json`, with parameters such as `charset=utf-8`.
pub fn expect_json(request: &Request) -> Result<(), Response> {
    let media_type = request
        .header("content-type")
        .map(|v| v.split(';').next().unwrap_or_default().trim());
    match media_type {
        Some(t) if t.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(Response::error(
            415,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        )),
    }
}

pub fn expect_body_within(request: &Request, max_bytes: usize) -> Result<(), Response> {
    if request.body.len() > max_bytes {
        return Err(Response::error(
            413,
            "request_too_large",
            format!("the request body is larger than {max_bytes} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, content_type: Option<&str>, body: &'static [u8]) -> Request<'static> {
        let headers = content_type
            .map(|t| ("content-type".to_owned(), t.to_owned()))
            .into_iter()
            .collect();
        Request {
            method: method.into(),
            url: "http://localhost/functions/v1/f".into(),
            headers,
            request_id: String::new(),
            body,
        }
    }

    #[test]
    fn header_names_are_lowercased() {
        let r = Request::from_json(
            r#"{"method":"POST","url":"/","headers":{"Content-Type":"application/json"},"request_id":"r-1"}"#,
            b"",
        )
        .unwrap();
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.request_id, "r-1");
    }

    #[test]
    fn actions_serialise_to_the_host_protocol() {
        let respond = Action::respond(Response::error(400, "x", "y")).to_json();
        let v: Value = serde_json::from_str(&respond).unwrap();
        assert_eq!(v["respond"]["status"], 400);
        assert_eq!(v["respond"]["headers"]["content-type"], "application/json");
        assert_eq!(v["respond"]["headers"]["access-control-allow-origin"], "*");
        assert_eq!(v["respond"]["body"], r#"{"code":"x","message":"y"}"#);
        let query = Action::query(Session::service(), "select $1", vec![json!([1])], json!({"n": 1})).to_json();
        assert_eq!(
            serde_json::from_str::<Value>(&query).unwrap(),
            json!({"query": {"sql": "select $1", "params": [[1]], "role": "service_role", "claims": {"role": "service_role"}}, "state": {"n": 1}})
        );
        assert_eq!(Action::RefreshJwks.to_json(), r#"{"refresh_jwks":true}"#);
        let call = Outbound {
            method: "POST".into(),
            url: "https://api.stripe.com/v1/customers".into(),
            headers: BTreeMap::from([("idempotency-key".to_owned(), "k".to_owned())]),
            body: "email=a%40b.c".into(),
        };
        let http = Action::Http {
            calls: vec![call],
            delay_ms: 500,
            state: json!({"n": 2}),
        };
        assert_eq!(
            serde_json::from_str::<Value>(&http.to_json()).unwrap(),
            json!({"http": {"calls": [{"method": "POST", "url": "https://api.stripe.com/v1/customers",
                    "headers": {"idempotency-key": "k"}, "body": "email=a%40b.c"}], "delay_ms": 500}, "state": {"n": 2}})
        );
    }

    #[test]
    fn http_results_are_an_answer_or_an_error() {
        let results: Vec<HttpResult> = serde_json::from_str(
            r#"[{"status":200,"headers":{"request-id":"req_1"},"body":"{}"},{"status":204},{"error":"connection refused"}]"#,
        )
        .unwrap();
        assert_eq!(
            results,
            vec![
                HttpResult::Answered {
                    status: 200,
                    headers: BTreeMap::from([("request-id".to_owned(), "req_1".to_owned())]),
                    body: "{}".into()
                },
                HttpResult::Answered {
                    status: 204,
                    headers: BTreeMap::new(),
                    body: String::new()
                },
                HttpResult::Failed {
                    error: "connection refused".into()
                },
            ]
        );
    }

    #[test]
    fn method_preflight_and_405() {
        assert!(expect_method(&request("POST", None, b""), "POST").is_ok());
        let preflight = expect_method(&request("OPTIONS", None, b""), "POST").unwrap_err();
        assert_eq!((preflight.status, preflight.body.as_str()), (204, ""));
        assert_eq!(preflight.headers["access-control-allow-headers"], ALLOW_HEADERS);
        assert_eq!(preflight.headers["access-control-allow-origin"], "*");
        let wrong = expect_method(&request("GET", None, b""), "POST").unwrap_err();
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.headers["allow"], "POST, OPTIONS");
    }

    #[test]
    fn content_type_allows_parameters_and_case() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
        ] {
            assert!(expect_json(&request("POST", Some(ok), b"")).is_ok(), "{ok}");
        }
        for bad in [
            None,
            Some("text/plain"),
            Some("application/jsonx"),
            Some("application/x-www-form-urlencoded"),
        ] {
            assert_eq!(expect_json(&request("POST", bad, b"")).unwrap_err().status, 415, "{bad:?}");
        }
    }

    #[test]
    fn body_limit_is_inclusive() {
        assert!(expect_body_within(&request("POST", None, b"1234"), 4).is_ok());
        assert_eq!(expect_body_within(&request("POST", None, b"12345"), 4).unwrap_err().status, 413);
    }
}
