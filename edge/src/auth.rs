//! Who is calling: the credential in `Authorization: Bearer`, verified here,
//! failing closed. No token is trusted because a gateway might have checked it.
//!
//! - A JWT is verified with `jsonwebtoken`. ES256 and RS256 tokens against the
//!   project's JWKS, which the host fetches from
//!   `${SUPABASE_URL}/auth/v1/.well-known/jwks.json` and passes in: the key is
//!   the one the token's `kid` names, and it must be a key of the token's own
//!   algorithm (a P-256 EC key for ES256, an RSA key for RS256, its `alg`,
//!   `use` and `key_ops` agreeing when given). HS256 tokens only against the
//!   legacy secret (`JWT_SECRET`, else `SUPABASE_JWT_SECRET`), never against
//!   anything from the JWKS. Every other `alg`, `none` included, is refused.
//! - Then the claims: `exp` required and `nbf` when present, both with
//!   [`LEEWAY_S`] of clock skew; `role` required. An `authenticated` token is a
//!   user's: its `aud` must be (or contain) `authenticated` and its `sub` a
//!   UUID. `anon` and `service_role` tokens are Supabase's API keys, which
//!   have no `aud`.
//! - No `Authorization`, or Supabase's publishable key (`sb_publishable_…`),
//!   is an anonymous caller; so is the legacy anon key (an HS256 JWT) when the
//!   legacy secret is not configured: anonymous is what sending nothing gets,
//!   so that token needs no trust. Each function decides what anonymous may do.
//! - When a token names a key the host's JWKS lacks, the function asks the
//!   host to fetch the JWKS again ([`AuthError::RefreshJwks`]) before it
//!   refuses the token; keys are rotated by publishing the new one first.
//! - A key-pair token whose signature verified is remembered ([`VerifiedTokens`]):
//!   an ES256 check costs 0.72 ms in WASM against 0.04 ms for HS256, and an app
//!   sends the same access token with every request. The memory is keyed by the
//!   exact token and the exact key set it was checked against (a rotated or
//!   revoked key changes the set and forgets everything), holds only tokens
//!   whose signature and claims passed, checks `exp` and `nbf` again on every
//!   use, and is bounded.
//! - Nothing to verify with (no `SUPABASE_URL`, no JWKS, no legacy secret) is
//!   500 `not_configured`; a JWKS the host could not fetch is 503
//!   `auth_unavailable`. Refused tokens are 401 with `www-authenticate: Bearer`.

use crate::http::{Action, Request, Response};
use crate::Context;
use buckets_core::passport::validate::is_canonical_uuid;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

/// The role of a signed-in user's token.
pub const AUTHENTICATED_ROLE: &str = "authenticated";
/// The role of the anon key and of callers without a token.
pub const ANON_ROLE: &str = "anon";
/// The role Supabase gives its service key: trusted server code.
pub const SERVICE_ROLE: &str = "service_role";
/// The clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_S: f64 = 30.0;
/// Supabase's publishable API keys start so; they are not JWTs.
pub const PUBLISHABLE_KEY_PREFIX: &str = "sb_publishable_";
/// Longer bearers are refused unread. Supabase's tokens are around 1 KB.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// When to ask again after the host could not fetch the JWKS, in seconds.
const JWKS_RETRY_AFTER_S: &str = "5";

/// The caller a handler acts for, with the claims of its verified token:
/// what the database reads as `request.jwt.claims`.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    /// A signed-in user: `id` is the token's `sub`.
    User { id: String, claims: Value },
    /// No session: no token, the anon key or a publishable key.
    Anon { claims: Value },
    /// The service role key: may act on behalf of any user.
    Service { claims: Value },
}

impl Caller {
    /// A caller without a verified token: the claims say only the role.
    fn anonymous() -> Caller {
        Caller::Anon {
            claims: json!({ "role": ANON_ROLE }),
        }
    }
}

/// Why a request gets no caller.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    /// Answer this: 401, 500 `not_configured` or 503 `auth_unavailable`.
    Refused(Response),
    /// The token names a key the host's JWKS does not hold: the host should
    /// fetch the JWKS again and call `handle` again with `fresh: true`.
    RefreshJwks,
}

impl From<Response> for AuthError {
    fn from(response: Response) -> Self {
        AuthError::Refused(response)
    }
}

impl From<AuthError> for Action {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Refused(response) => Action::Respond(response),
            AuthError::RefreshJwks => Action::RefreshJwks,
        }
    }
}

/// The host's copy of the project's JWKS, as `jwks_json` gives it:
/// `{"jwks": {"keys": [...]} | null, "fresh": bool}`.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    /// The keys, or `None` when the host has no copy.
    pub keys: Option<JwkSet>,
    /// Whether the host fetched it for this request: then a missing key is
    /// missing for good.
    pub fresh: bool,
    /// SHA-256 of the JWKS document's exact text, when it has keys: what a
    /// remembered verification is bound to.
    pub key_set: Option<[u8; 32]>,
}

thread_local! {
    /// The last `jwks_json` read and what it held: the host sends the same
    /// document with every request until it fetches the keys again.
    static LAST_JWKS: RefCell<Option<(String, Jwks)>> = const { RefCell::new(None) };
    /// This instance's remembered verifications (WASM runs one thread).
    static VERIFIED: RefCell<VerifiedTokens> = RefCell::new(VerifiedTokens::default());
}

impl Jwks {
    /// Reads `jwks_json`. Keys of kinds this crate does not know are left
    /// out, so one new key type does not hide the others; a document without
    /// a `keys` array counts as no copy. The same text as the last call is
    /// not parsed again.
    pub fn from_host(json: &str) -> serde_json::Result<Jwks> {
        crate::read_once(&LAST_JWKS, json, Self::parse)
    }

    fn parse(json: &str) -> serde_json::Result<Jwks> {
        #[derive(Deserialize)]
        struct FromHost<'a> {
            #[serde(default, borrow)]
            jwks: Option<&'a RawValue>,
            #[serde(default)]
            fresh: bool,
        }
        let host: FromHost = serde_json::from_str(json)?;
        let document = host.jwks.map_or("null", RawValue::get);
        let jwks: Value = serde_json::from_str(document)?;
        let keys = jwks.get("keys").and_then(Value::as_array).map(|keys| JwkSet {
            keys: keys
                .iter()
                .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
                .collect(),
        });
        let key_set = keys.as_ref().map(|_| Sha256::digest(document.as_bytes()).into());
        Ok(Jwks {
            keys,
            fresh: host.fresh,
            key_set,
        })
    }
}

/// How many verified key-pair tokens an instance remembers: more than the
/// users one instance serves within a token's hour.
pub const MAX_VERIFIED_TOKENS: usize = 1024;
/// Longer tokens are verified every time, so the memory stays under
/// `MAX_VERIFIED_TOKENS` × 2 × this (Supabase's tokens are around 1 KB).
pub const MAX_VERIFIED_TOKEN_BYTES: usize = 2048;

/// Key-pair tokens whose signature and claims verified, with their claims,
/// for the key set they verified against. Only [`verify`] fills it, after a
/// verification passed; a lookup answers only for the same token and the
/// same key set, and the claims are checked against the clock again
/// ([`holder`]), so an expired token is refused as it would be unremembered.
/// A new key set (rotation, revocation) forgets everything; beyond
/// [`MAX_VERIFIED_TOKENS`] the oldest are forgotten first.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    key_set: Option<[u8; 32]>,
    claims: HashMap<String, Map<String, Value>>,
    oldest_first: VecDeque<String>,
}

impl VerifiedTokens {
    /// The claims `token` verified with under `key_set`, if it is remembered.
    fn get(&self, token: &str, key_set: Option<[u8; 32]>) -> Option<Map<String, Value>> {
        if key_set.is_none() || key_set != self.key_set {
            return None;
        }
        self.claims.get(token).cloned()
    }

    /// Remembers a token that verified under `key_set`.
    fn insert(&mut self, token: &str, key_set: Option<[u8; 32]>, claims: Map<String, Value>) {
        if key_set.is_none() || token.len() > MAX_VERIFIED_TOKEN_BYTES {
            return;
        }
        if key_set != self.key_set {
            *self = VerifiedTokens {
                key_set,
                ..VerifiedTokens::default()
            };
        }
        if self.claims.insert(token.to_owned(), claims).is_some() {
            return;
        }
        self.oldest_first.push_back(token.to_owned());
        while self.oldest_first.len() > MAX_VERIFIED_TOKENS {
            if let Some(oldest) = self.oldest_first.pop_front() {
                self.claims.remove(&oldest);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.claims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }
}

/// The caller of `request`: anonymous, or the holder of a token that
/// verifies.
pub fn caller(request: &Request, ctx: &Context) -> Result<Caller, AuthError> {
    match bearer(request) {
        None => Ok(Caller::anonymous()),
        Some(key) if key.starts_with(PUBLISHABLE_KEY_PREFIX) => Ok(Caller::anonymous()),
        Some(token) => verify(token, ctx),
    }
}

/// The 401 for an anonymous caller of a function that acts for someone.
pub fn sign_in_required(request: &Request) -> Response {
    sign_in_required_for(sent_a_key(request))
}

/// Whether the request carries `Authorization: Bearer <something>`.
pub fn sent_a_key(request: &Request) -> bool {
    bearer(request).is_some()
}

/// [`sign_in_required`], knowing only whether the caller sent a key.
pub fn sign_in_required_for(sent_a_key: bool) -> Response {
    match sent_a_key {
        false => unauthorized("missing_token", "send the access token as Authorization: Bearer <token>"),
        true => unauthorized(
            "sign_in_required",
            "this function acts for a signed-in user: send the user's access token as \
             Authorization: Bearer <token>, not the project's anon or publishable key",
        ),
    }
}

/// Lets only the service role key through, for the functions that do the
/// platform's own work (the payout worker, the receipts sender): 401 without
/// a token, 403 for a user's or the anon key.
pub fn service_only(request: &Request, ctx: &Context) -> Result<Caller, Action> {
    match caller(request, ctx)? {
        service @ Caller::Service { .. } => Ok(service),
        Caller::Anon { .. } if bearer(request).is_none() => {
            Err(unauthorized("missing_token", "send the service role key as Authorization: Bearer <key>").into())
        }
        _ => Err(Response::error(403, "service_role_required", "only the service role key may run this function").into()),
    }
}

fn bearer<'r>(request: &'r Request) -> Option<&'r str> {
    let (scheme, token) = request.header("authorization")?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Verifies a token (signature, then claims) and names its holder.
fn verify(token: &str, ctx: &Context) -> Result<Caller, AuthError> {
    let secret = ctx.env.legacy_jwt_secret();
    let jwks_configured = ctx.env.supabase_url().is_some() || ctx.jwks.keys.is_some();
    if secret.is_none() && !jwks_configured {
        return Err(not_configured().into());
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed().into());
    }
    if let Some(claims) = VERIFIED.with_borrow(|verified| verified.get(token, ctx.jwks.key_set)) {
        return holder(claims, ctx.now_micros).map_err(AuthError::Refused);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
    let key = match header.alg {
        Algorithm::HS256 => match secret {
            Some(secret) => DecodingKey::from_secret(secret.as_bytes()).map_err(|_| not_configured())?,
            None => return unverifiable_hs256(token),
        },
        Algorithm::ES256 | Algorithm::RS256 if !jwks_configured => {
            return Err(
                invalid("the access token is signed with a key pair, and this function has no JWKS to check it: set SUPABASE_URL").into(),
            )
        }
        Algorithm::ES256 | Algorithm::RS256 => published_key(&header, &ctx.jwks)?,
        _ => return Err(invalid("the access token's algorithm is not accepted: only ES256, RS256 and HS256 are").into()),
    };
    let mut validation = Validation::new(header.alg);
    // The claims are checked below, against the host's clock.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => invalid("the access token's signature does not match"),
            _ => malformed(),
        })?
        .claims;
    let caller = holder(claims.clone(), ctx.now_micros).map_err(AuthError::Refused)?;
    if header.alg != Algorithm::HS256 {
        VERIFIED.with_borrow_mut(|verified| verified.insert(token, ctx.jwks.key_set, claims));
    }
    Ok(caller)
}

/// An HS256 token when no legacy secret is configured. It is never checked
/// against a public key (the old key-confusion attack); the anon key among
/// them is let through as what it is, anonymous.
fn unverifiable_hs256(token: &str) -> Result<Caller, AuthError> {
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(token).map_err(|_| malformed())?;
    match claims.get("role").and_then(Value::as_str) {
        Some(ANON_ROLE) => Ok(Caller::anonymous()),
        _ => Err(invalid(
            "the access token is signed with HS256, and this function has no legacy JWT secret to check it \
             (JWT_SECRET); sign in again for a token of the project's current signing key",
        )
        .into()),
    }
}

/// The key of the JWKS that the token's `kid` names, when it is a key for
/// the token's algorithm.
fn published_key(header: &Header, jwks: &Jwks) -> Result<DecodingKey, AuthError> {
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| invalid("the access token names no signing key (kid)"))?;
    match jwks.keys.as_ref().and_then(|set| set.find(kid)) {
        Some(jwk) if fits(jwk, header.alg) => DecodingKey::from_jwk(jwk)
            .map_err(|_| AuthError::Refused(invalid("the access token's signing key in the project's JWKS cannot be used"))),
        Some(_) => Err(invalid("the access token's algorithm does not match its signing key").into()),
        None if !jwks.fresh => Err(AuthError::RefreshJwks),
        None if jwks.keys.is_none() => Err(Response::error(
            503,
            "auth_unavailable",
            "the project's signing keys (JWKS) could not be fetched to check the access token; retry shortly",
        )
        .with_header("retry-after", JWKS_RETRY_AFTER_S)
        .into()),
        None => Err(invalid("the access token is signed with a key the project does not publish (revoked or foreign)").into()),
    }
}

/// Whether `jwk` is a signature-verification key for `alg`: the token never
/// chooses the kind of key it is checked with.
fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let (kind_fits, key_alg) = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => (ec.curve == EllipticCurve::P256, KeyAlgorithm::ES256),
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => (true, KeyAlgorithm::RS256),
        _ => return false,
    };
    let common = &jwk.common;
    kind_fits
        && common.key_algorithm.is_none_or(|a| a == key_alg)
        && common.public_key_use.as_ref().is_none_or(|u| *u == PublicKeyUse::Signature)
        && common
            .key_operations
            .as_ref()
            .is_none_or(|ops| ops.contains(&KeyOperations::Verify))
}

/// The caller a verified token's claims describe, if they are current.
fn holder(claims: Map<String, Value>, now_micros: i64) -> Result<Caller, Response> {
    let now_s = now_micros as f64 / 1e6;
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or_else(|| invalid("the access token has no expiry (exp)"))?;
    if now_s >= exp + LEEWAY_S {
        return Err(unauthorized(
            "token_expired",
            "the access token has expired; refresh the session and retry",
        ));
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_f64().ok_or_else(|| invalid("the access token's nbf is not a time"))?;
        if now_s + LEEWAY_S < nbf {
            return Err(invalid("the access token is not valid yet (nbf); check the device's clock"));
        }
    }
    let role = claims
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the access token has no role"))?;
    match role {
        AUTHENTICATED_ROLE => {
            if !audience_holds(claims.get("aud"), AUTHENTICATED_ROLE) {
                return Err(invalid("the access token is not for this project's users (aud)"));
            }
            let id = claims
                .get("sub")
                .and_then(Value::as_str)
                .filter(|sub| is_canonical_uuid(sub))
                .ok_or_else(|| invalid("the access token names no user (sub)"))?
                .to_owned();
            Ok(Caller::User {
                id,
                claims: Value::Object(claims),
            })
        }
        ANON_ROLE => Ok(Caller::Anon {
            claims: Value::Object(claims),
        }),
        SERVICE_ROLE => Ok(Caller::Service {
            claims: Value::Object(claims),
        }),
        _ => Err(invalid(
            "the access token's role cannot call the functions: use a user's token or an API key",
        )),
    }
}

/// `aud` is `audience`, or an array holding it.
fn audience_holds(aud: Option<&Value>, audience: &str) -> bool {
    match aud {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
        _ => false,
    }
}

fn not_configured() -> Response {
    Response::error(
        500,
        "not_configured",
        "this function cannot verify access tokens: set SUPABASE_URL (the project's JWKS) \
         or JWT_SECRET (the legacy HS256 secret)",
    )
}

fn malformed() -> Response {
    invalid("the access token is not a well-formed JWT")
}

fn invalid(message: &str) -> Response {
    unauthorized("invalid_token", message)
}

fn unauthorized(code: &str, message: &str) -> Response {
    Response::error(401, code, message).with_header("www-authenticate", "Bearer")
}

#[cfg(test)]
pub(crate) mod tests;
