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
//! The host passes the error of a failed query, from postgres.js, as
//! `{"code","message"}`: `code` is the SQLSTATE for errors Postgres raised, or
//! a postgres.js code such as `CONNECTION_CLOSED`.

use crate::auth::{Caller, SERVICE_ROLE};
use crate::http::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The roles a statement may run as: Supabase's API roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DbRole {
    Anon,
    Authenticated,
    ServiceRole,
}

/// Who a statement runs as: `{"role", "claims"}` in the query action, where
/// `claims` is the JSON object for `request.jwt.claims`.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// Maps an error to HTTP. The SQL functions raise 22xxx/23xxx with messages
/// written for the caller, so those are passed on; anything else is ours and
/// is answered without internals (`lib.rs` logs the database's own words).
pub fn error_response(error: &DbError) -> Response {
    let code = error.code.as_deref().unwrap_or_default();
    let message = error.message.clone().unwrap_or_default();
    match code.get(..2).unwrap_or_default() {
        "22" | "23" => Response::error(400, "invalid_request", message),
        _ if code == "42501" => Response::error(403, "forbidden", message),
        "53" | "57" | "08" => unavailable(),
        _ if code.starts_with("CONNECT") || code.starts_with("ECONN") => unavailable(),
        _ => Response::internal(),
    }
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
    fn unavailable_says_when_to_retry() {
        let r = error_response(&DbError {
            code: Some("57P03".into()),
            message: None,
        });
        assert_eq!(r.headers["retry-after"], "1");
    }
}
