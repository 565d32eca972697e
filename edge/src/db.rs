//! The database side of the host protocol: who a statement runs as, and what
//! a failed query means for the caller.
//!
//! Every query names its [`Session`]: the Postgres role and the claims the
//! host sets before the statement, in the statement's transaction, the way
//! PostgREST does it (`set_config('role', …, true)`, then
//! `set_config('request.jwt.claims', …, true)`), so grants and row level
//! security apply and `auth.uid()` reads the caller. A role switched inside
//! the statement itself would come too late: Postgres checks privileges and
//! policies before any part of a statement runs.
//!
//! The host (`supabase/functions/_shared/pg.ts`) sends the switch and the
//! statement in one pipeline, one implicit transaction: one round trip
//! through the pooler. It passes the error of a failed query as
//! `{"code","message","detail"}`: `code` is the SQLSTATE for errors Postgres
//! raised, or a connection code (`CONNECTION_CLOSED`, `CONNECT_TIMEOUT`,
//! `ECONNREFUSED`); `detail` the error's DETAIL, when it has one.

use crate::auth::{Caller, SERVICE_ROLE};
use crate::http::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The roles a statement may run as: Supabase's API roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbRole {
    Anon,
    Authenticated,
    ServiceRole,
}

/// Who a statement runs as: `{"role", "claims"}` in the query action, where
/// `claims` is the JSON object for `request.jwt.claims`. A handler that
/// queries again after an HTTP step carries it in its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    role: DbRole,
    claims: Value,
}

impl Session {
    /// The caller's own session: a user as `authenticated`, an anonymous
    /// caller as `anon`, a service role token as `service_role`, each with
    /// the claims of its verified token.
    pub fn of(caller: &Caller) -> Session {
        let (role, claims) = match caller {
            Caller::User { claims, .. } => (DbRole::Authenticated, claims),
            Caller::Anon { claims } => (DbRole::Anon, claims),
            Caller::Service { claims } => (DbRole::ServiceRole, claims),
        };
        Session {
            role,
            claims: claims.clone(),
        }
    }

    /// The signed-in user's id (`sub`) of an `authenticated` session.
    pub fn user_id(&self) -> Option<&str> {
        match self.role {
            DbRole::Authenticated => self.claims["sub"].as_str(),
            _ => None,
        }
    }

    /// Server work that no token asked for (a verified Stripe delivery).
    pub fn service() -> Session {
        Session {
            role: DbRole::ServiceRole,
            claims: json!({ "role": SERVICE_ROLE }),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DbError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// The error's DETAIL: where a SQL function raises one, a stable code the
    /// caller branches on (`sold_out`, `unknown_item`, …).
    #[serde(default)]
    pub detail: Option<String>,
}

/// Our own SQLSTATE for "too many requests": a rate limit of the database
/// (passport.limits) was met; DETAIL holds the whole seconds to wait.
pub const RATE_LIMITED: &str = "PT429";

/// Maps an error to HTTP. The SQL functions raise 22xxx/23xxx with messages
/// written for the caller, so those are passed on, as is a rate limit
/// (`429` with `Retry-After`); anything else is ours and is answered without
/// internals (`lib.rs` logs the database's own words).
pub fn error_response(error: &DbError) -> Response {
    let code = error.code.as_deref().unwrap_or_default();
    let message = error.message.clone().unwrap_or_default();
    match code.get(..2).unwrap_or_default() {
        "22" | "23" => Response::error(400, "invalid_request", message),
        _ if code == RATE_LIMITED => rate_limited(message, error.detail.as_deref()),
        _ if code == "42501" => Response::error(403, "forbidden", message),
        "53" | "57" | "08" => unavailable(),
        _ if code.starts_with("CONNECT") || code.starts_with("ECONN") => unavailable(),
        _ => Response::internal(),
    }
}

/// `429 rate_limited`, `Retry-After` the seconds the database named (at
/// least 1; 1 when it named none).
fn rate_limited(message: String, wait_s: Option<&str>) -> Response {
    let wait_s = wait_s.and_then(|s| s.trim().parse::<u32>().ok()).unwrap_or(1).max(1);
    Response::error(429, "rate_limited", message).with_header("retry-after", &wait_s.to_string())
}

fn unavailable() -> Response {
    Response::error(503, "unavailable", "the database is busy or unreachable; retry shortly").with_header("retry-after", "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_caller_runs_as_its_role_with_its_claims() {
        let session = |caller: Caller| serde_json::to_value(Session::of(&caller)).unwrap();
        let claims = json!({ "role": "authenticated", "sub": "u" });
        assert_eq!(
            session(Caller::User {
                id: "u".into(),
                claims: claims.clone()
            }),
            json!({ "role": "authenticated", "claims": claims })
        );
        let anon = json!({ "role": "anon" });
        assert_eq!(
            session(Caller::Anon { claims: anon.clone() }),
            json!({ "role": "anon", "claims": anon })
        );
        let service = json!({ "role": "service_role", "iss": "supabase" });
        assert_eq!(
            session(Caller::Service { claims: service.clone() }),
            json!({ "role": "service_role", "claims": service })
        );
        assert_eq!(
            serde_json::to_value(Session::service()).unwrap(),
            json!({ "role": "service_role", "claims": { "role": "service_role" } })
        );
    }

    fn answer(code: Option<&str>, message: &str) -> (u16, String, String) {
        let r = error_response(&DbError {
            code: code.map(Into::into),
            message: Some(message.into()),
            detail: None,
        });
        let body: Value = serde_json::from_str(&r.body).unwrap();
        (
            r.status,
            body["code"].as_str().unwrap().into(),
            body["message"].as_str().unwrap().into(),
        )
    }

    #[test]
    fn sqlstate_classes_map_to_http() {
        assert_eq!(
            answer(Some("22023"), "page_size must be 1 to 200"),
            (400, "invalid_request".into(), "page_size must be 1 to 200".into())
        );
        assert_eq!(
            answer(Some("23505"), "duplicate key"),
            (400, "invalid_request".into(), "duplicate key".into())
        );
        assert_eq!(
            answer(Some("42501"), "sign in to read a timeline"),
            (403, "forbidden".into(), "sign in to read a timeline".into())
        );
        for busy in [
            "53300",
            "57014",
            "57P01",
            "08006",
            "CONNECTION_CLOSED",
            "CONNECT_TIMEOUT",
            "ECONNREFUSED",
        ] {
            assert_eq!(answer(Some(busy), "x").0, 503, "{busy}");
        }
        for ours in [Some("42883"), Some("XX000"), Some("P0001"), None, Some("")] {
            let (status, code, message) = answer(ours, "function passport.ingest(jsonb) does not exist");
            assert_eq!((status, code.as_str()), (500, "internal"), "{ours:?}");
            assert!(!message.contains("passport.ingest"));
        }
    }

    #[test]
    fn a_rate_limit_is_429_with_the_seconds_to_wait() {
        let limited = |detail: Option<&str>| {
            error_response(&DbError {
                code: Some(RATE_LIMITED.into()),
                message: Some("rate limited: a user may send 60 requests at once and 30 a minute; retry in 2 s".into()),
                detail: detail.map(Into::into),
            })
        };
        let r = limited(Some("2"));
        assert_eq!(r.status, 429);
        assert_eq!(r.headers["retry-after"], "2");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["code"], "rate_limited");
        assert!(body["message"].as_str().unwrap().contains("retry in 2 s"));
        for odd in [None, Some(""), Some("soon"), Some("0")] {
            assert_eq!(limited(odd).headers["retry-after"], "1", "{odd:?}");
        }
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let r = error_response(&DbError {
            code: Some("57P03".into()),
            message: None,
            detail: None,
        });
        assert_eq!(r.headers["retry-after"], "1");
    }
}
