//! The project's JWKS, cached per Worker isolate as the Deno host caches it
//! per instance (serve.ts `KeySet`): fetched only when a handler meets a
//! token signed with a key pair, handed out for `JWKS_CACHE_TTL_S` seconds
//! (600 unless set; after that a removed key stops verifying), fetched again
//! at most every 30 s when a token names an unknown kid, and a failed fetch
//! keeps the keys already known. Unlike the Deno host, concurrent requests
//! do not share one fetch: workerd ties a fetch to the request that made it,
//! and another request may not await it.

use serde_json::{json, Value};
use std::cell::RefCell;
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Method, Request, RequestInit};

const MIN_REFETCH_MS: f64 = 30_000.0;
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

struct Cache {
    /// The JWKS as JSON text, `null` until a fetch succeeded.
    json: String,
    fetched_at_ms: f64,
}

thread_local! {
    // An isolate runs one thread; its globals outlive a request.
    static CACHE: RefCell<Cache> = RefCell::new(Cache { json: "null".into(), fetched_at_ms: f64::NEG_INFINITY });
}

pub struct KeySet {
    url: Option<String>,
    ttl_ms: f64,
}

impl KeySet {
    /// The keys of the project at `supabase_url`, if one is set.
    pub fn new(supabase_url: Option<&str>, ttl_s: Option<f64>) -> KeySet {
        KeySet {
            url: supabase_url.map(|u| format!("{}/auth/v1/.well-known/jwks.json", u.trim_end_matches('/'))),
            ttl_ms: 1000.0 * ttl_s.filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(600.0),
        }
    }

    fn min_refetch_ms(&self) -> f64 {
        MIN_REFETCH_MS.min(self.ttl_ms)
    }

    /// What `handle` gets first: the copy while it is current (else none),
    /// and whether it is fresh.
    pub fn current(&self) -> String {
        CACHE.with_borrow(|c| {
            let age = now_ms() - c.fetched_at_ms;
            describe(if age <= self.ttl_ms { &c.json } else { "null" }, age <= self.min_refetch_ms())
        })
    }

    /// A fresh copy, unless one was fetched moments ago.
    pub async fn refresh(&self) -> String {
        let age = now_ms() - CACHE.with_borrow(|c| c.fetched_at_ms);
        if age > self.min_refetch_ms() {
            if let Some(url) = &self.url {
                let fetched = fetch_json(url).await;
                CACHE.with_borrow_mut(|c| {
                    match fetched {
                        Ok(jwks) => c.json = jwks.to_string(),
                        Err(e) => crate::log(json!({ "level": "warn", "message": format!("cannot fetch the JWKS at {url}: {e}") })),
                    }
                    // A failure is retried no sooner than a refresh would be.
                    c.fetched_at_ms = now_ms();
                });
            }
        }
        CACHE.with_borrow(|c| describe(&c.json, true))
    }
}

fn describe(jwks: &str, fresh: bool) -> String {
    format!("{{\"jwks\":{jwks},\"fresh\":{fresh}}}")
}

pub fn now_ms() -> f64 {
    worker::Date::now().as_millis() as f64
}

async fn fetch_json(url: &str) -> Result<Value, String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get);
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetching = async {
        let mut response = Fetch::Request(request).send_with_signal(&signal).await.map_err(|e| e.to_string())?;
        if !(200..300).contains(&response.status_code()) {
            return Err(format!("HTTP {}", response.status_code()));
        }
        response.json::<Value>().await.map_err(|e| e.to_string())
    };
    crate::within(FETCH_TIMEOUT, controller, fetching).await
}

pub(crate) async fn sleep(duration: Duration) {
    Delay::from(duration).await
}
