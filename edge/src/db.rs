//! What a failed query means for the caller. The host passes the error of
//! postgres.js as `{"code","message"}`: `code` is the SQLSTATE for errors
//! Postgres raised, or a postgres.js code such as `CONNECTION_CLOSED`.

use crate::http::Response;
use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DbError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Maps an error to HTTP. The SQL functions raise 22xxx/23xxx with messages
/// written for the caller, so those are passed on; anything else is ours and
/// is answered without internals (the host logs the error itself).
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
    use serde_json::Value;

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
