//! Who is calling: the Supabase access token in `Authorization: Bearer`.
//!
//! With `SUPABASE_JWT_SECRET` in the function's environment the HS256
//! signature is verified here. Without it the function relies on the
//! gateway's check (`verify_jwt = true`, Supabase's default), which has already
//! refused forged tokens; the claims are still read and `exp` is still checked.

use crate::http::{Request, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use buckets_core::passport::validate::is_canonical_uuid;
use hmac::{Hmac, KeyInit, Mac};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::Sha256;

/// The role Supabase gives its service key: trusted server code.
pub const SERVICE_ROLE: &str = "service_role";

/// The caller a handler acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A signed-in user, by the token's `sub`.
    User(String),
    /// The service role key: may act on behalf of any user.
    Service,
}

/// The claims this crate reads. `exp` is required: Supabase always sets it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claims {
    pub sub: Option<String>,
    pub role: Option<String>,
    pub exp: f64,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// The caller of `request`, or the 401 to answer.
pub fn caller(request: &Request, secret: Option<&str>, now_micros: i64) -> Result<Caller, Response> {
    let token = bearer(request).ok_or_else(|| unauthorized("missing_token", "send the access token as Authorization: Bearer <token>"))?;
    let claims = verify(token, secret, now_micros)?;
    if claims.role.as_deref() == Some(SERVICE_ROLE) {
        return Ok(Caller::Service);
    }
    match claims.sub {
        Some(sub) if is_canonical_uuid(&sub) => Ok(Caller::User(sub)),
        _ => Err(unauthorized(
            "sign_in_required",
            "this function needs a signed-in user's access token (or the service role key)",
        )),
    }
}

fn bearer<'r>(request: &'r Request) -> Option<&'r str> {
    let (scheme, token) = request.header("authorization")?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks the token's shape, its HS256 signature when a secret is given,
/// and its expiry, and returns its claims.
pub fn verify(token: &str, secret: Option<&str>, now_micros: i64) -> Result<Claims, Response> {
    let malformed = || invalid("the access token is not a well-formed JWT");
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let head: Header = decode_json(header).ok_or_else(malformed)?;
    let claims: Claims = decode_json(payload).ok_or_else(malformed)?;
    if let Some(secret) = secret {
        if head.alg != "HS256" {
            return Err(invalid("the access token is not signed with HS256"));
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed())?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(&token.as_bytes()[..header.len() + 1 + payload.len()]);
        mac.verify_slice(&signature)
            .map_err(|_| invalid("the access token's signature does not match"))?;
    }
    // RFC 7519: the token is valid strictly before `exp` (seconds).
    if now_micros as f64 >= claims.exp * 1e6 {
        return Err(unauthorized(
            "token_expired",
            "the access token has expired; refresh the session and retry",
        ));
    }
    Ok(claims)
}

fn decode_json<T: DeserializeOwned>(part: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

fn invalid(message: &str) -> Response {
    unauthorized("invalid_token", message)
}

fn unauthorized(code: &str, message: &str) -> Response {
    Response::error(401, code, message).with_header("www-authenticate", "Bearer")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    pub const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
    pub const NOW_MICROS: i64 = 1_800_000_000_000_000;
    pub const USER: &str = "0b4a3c2d-1e0f-4a5b-8c7d-6e5f4a3b2c1d";

    /// An HS256 token for `claims`, as Supabase's auth server signs them.
    pub fn sign(claims: &Value, secret: &str) -> String {
        let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{head}.{body}").as_bytes());
        format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    pub fn user_claims() -> Value {
        json!({"sub": USER, "role": "authenticated", "exp": NOW_MICROS / 1_000_000 + 3600, "aud": "authenticated"})
    }

    fn with_token(authorization: Option<String>) -> Request<'static> {
        let headers: BTreeMap<String, String> = authorization.map(|a| ("authorization".to_owned(), a)).into_iter().collect();
        Request {
            method: "POST".into(),
            url: "/".into(),
            headers,
            body: b"",
        }
    }

    fn outcome(authorization: Option<String>, secret: Option<&str>) -> Result<Caller, (u16, String)> {
        caller(&with_token(authorization), secret, NOW_MICROS).map_err(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(r.headers["www-authenticate"], "Bearer");
            (r.status, body["code"].as_str().unwrap().to_owned())
        })
    }

    fn bearer_of(claims: &Value, secret: &str) -> Option<String> {
        Some(format!("Bearer {}", sign(claims, secret)))
    }

    #[test]
    fn a_good_user_token() {
        assert_eq!(
            outcome(bearer_of(&user_claims(), SECRET), Some(SECRET)),
            Ok(Caller::User(USER.into()))
        );
        let lower_scheme = Some(format!("bearer {}", sign(&user_claims(), SECRET)));
        assert_eq!(outcome(lower_scheme, Some(SECRET)), Ok(Caller::User(USER.into())));
    }

    #[test]
    fn the_service_role_needs_no_sub() {
        let claims = json!({"role": "service_role", "exp": NOW_MICROS / 1_000_000 + 60});
        assert_eq!(outcome(bearer_of(&claims, SECRET), Some(SECRET)), Ok(Caller::Service));
    }

    #[test]
    fn missing_and_malformed() {
        let code = |auth: Option<&str>| outcome(auth.map(str::to_owned), Some(SECRET)).unwrap_err();
        assert_eq!(code(None), (401, "missing_token".into()));
        assert_eq!(code(Some("Basic dXNlcjpwYXNz")), (401, "missing_token".into()));
        assert_eq!(code(Some("Bearer ")), (401, "missing_token".into()));
        assert_eq!(code(Some("Bearer abc")), (401, "invalid_token".into()));
        assert_eq!(code(Some("Bearer a.b.c.d")), (401, "invalid_token".into()));
        assert_eq!(code(Some("Bearer !!.??.**")), (401, "invalid_token".into()));
    }

    #[test]
    fn a_bad_signature_or_algorithm_is_refused() {
        let forged = bearer_of(&user_claims(), "another-secret-another-secret-another-secret");
        assert_eq!(outcome(forged, Some(SECRET)), Err((401, "invalid_token".into())));
        let token = sign(&user_claims(), SECRET);
        let (unsigned, _) = token.rsplit_once('.').unwrap();
        assert_eq!(
            outcome(Some(format!("Bearer {unsigned}.")), Some(SECRET)),
            Err((401, "invalid_token".into()))
        );
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(user_claims().to_string())
        );
        assert_eq!(
            outcome(Some(format!("Bearer {none_alg}")), Some(SECRET)),
            Err((401, "invalid_token".into()))
        );
    }

    #[test]
    fn expiry_is_checked_with_and_without_a_secret() {
        let mut claims = user_claims();
        claims["exp"] = json!(NOW_MICROS / 1_000_000);
        for secret in [Some(SECRET), None] {
            assert_eq!(outcome(bearer_of(&claims, SECRET), secret), Err((401, "token_expired".into())));
        }
        claims["exp"] = json!(NOW_MICROS as f64 / 1e6 + 0.5);
        assert!(outcome(bearer_of(&claims, SECRET), Some(SECRET)).is_ok());
        let no_exp = json!({"sub": USER, "role": "authenticated"});
        assert_eq!(
            outcome(bearer_of(&no_exp, SECRET), Some(SECRET)),
            Err((401, "invalid_token".into()))
        );
    }

    #[test]
    fn without_a_secret_the_gateway_is_trusted_for_the_signature() {
        let other = bearer_of(&user_claims(), "the-gateway-checked-this-one-with-its-own-key");
        assert_eq!(outcome(other, None), Ok(Caller::User(USER.into())));
    }

    #[test]
    fn anon_and_sub_less_tokens_must_sign_in() {
        let anon = json!({"role": "anon", "exp": NOW_MICROS / 1_000_000 + 60});
        assert_eq!(
            outcome(bearer_of(&anon, SECRET), Some(SECRET)),
            Err((401, "sign_in_required".into()))
        );
        let odd_sub = json!({"sub": "not-a-uuid", "role": "authenticated", "exp": NOW_MICROS / 1_000_000 + 60});
        assert_eq!(
            outcome(bearer_of(&odd_sub, SECRET), Some(SECRET)),
            Err((401, "sign_in_required".into()))
        );
    }
}
