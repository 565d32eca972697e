//! Token verification: ES256 and RS256 against a JWKS, legacy HS256, key
//! rotation and revocation, the JWKS refresh, and every refusal. The keys are
//! real ones (`keys/*.pem`, made once with `openssl genpkey` for these tests
//! and used nowhere else); tokens are signed with `jsonwebtoken`.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
pub const NOW_MICROS: i64 = 1_800_000_000_000_000;
pub const NOW_S: i64 = NOW_MICROS / 1_000_000;
pub const USER: &str = "0b4a3c2d-1e0f-4a5b-8c7d-6e5f4a3b2c1d";
pub const SUPABASE_URL: &str = "http://127.0.0.1:54321";

/// A signing key of the tests and the `kid` it signs under.
pub struct TestKey {
    pem: &'static str,
    alg: Algorithm,
    kid: &'static str,
}

/// The project's current key, as Supabase makes them.
pub const ES256: TestKey = TestKey {
    pem: include_str!("keys/es256.pem"),
    alg: Algorithm::ES256,
    kid: "ec-2027",
};
/// The project's other published key: the one rotated from, or to.
pub const RS256: TestKey = TestKey {
    pem: include_str!("keys/rs256.pem"),
    alg: Algorithm::RS256,
    kid: "rsa-2026",
};
/// A key the project never published.
pub const STRANGER: TestKey = TestKey {
    pem: include_str!("keys/es256-stranger.pem"),
    alg: Algorithm::ES256,
    kid: "ec-stranger",
};

impl TestKey {
    fn encoding_key(&self) -> EncodingKey {
        match self.alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(self.pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(self.pem.as_bytes()).unwrap(),
        }
    }

    /// A token for `claims`, signed by this key under `kid`.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.into());
        encode(&header, claims, &self.encoding_key()).unwrap()
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.kid, claims)
    }

    /// The public key as Supabase's JWKS lists it.
    pub fn jwk(&self) -> Value {
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&self.encoding_key(), self.alg).unwrap()).unwrap();
        jwk["kid"] = json!(self.kid);
        jwk["key_ops"] = json!(["verify"]);
        jwk["ext"] = json!(true);
        jwk
    }
}

/// An HS256 token, as the legacy secret signs them.
pub fn sign_hs256(claims: &Value, secret: &[u8]) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret).unwrap()).unwrap()
}

/// The claims of a signed-in user's access token, as Supabase Auth writes them.
pub fn user_claims() -> Value {
    json!({
        "iss": format!("{SUPABASE_URL}/auth/v1"), "sub": USER, "aud": "authenticated",
        "exp": NOW_S + 3600, "iat": NOW_S - 60, "email": "ada@example.com", "role": "authenticated",
        "aal": "aal1", "session_id": "5f1e2d3c-4b5a-4698-8776-655443322110", "is_anonymous": false,
    })
}

/// A user's access token, signed with the project's current key.
pub fn user_token() -> String {
    ES256.sign(&user_claims())
}

/// The claims of Supabase's legacy API keys: no `aud`, no `sub`.
pub fn api_key_claims(role: &str) -> Value {
    json!({ "iss": "supabase", "ref": "local", "role": role, "iat": NOW_S - 86_400, "exp": NOW_S + 86_400 })
}

/// The legacy service role key (HS256).
pub fn service_key() -> String {
    sign_hs256(&api_key_claims(SERVICE_ROLE), SECRET.as_bytes())
}

/// The legacy anon key (HS256).
pub fn anon_key() -> String {
    sign_hs256(&api_key_claims(ANON_ROLE), SECRET.as_bytes())
}

pub fn published(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

/// `jwks_json` as the host passes it.
pub fn jwks_json(jwks: Value, fresh: bool) -> String {
    json!({ "jwks": jwks, "fresh": fresh }).to_string()
}

/// The host's cached JWKS with both of the project's keys.
pub fn host_jwks() -> String {
    jwks_json(published(&[&ES256, &RS256]), false)
}

/// The environment of a project with the JWKS and the legacy secret.
pub fn auth_env() -> Value {
    json!({ "SUPABASE_URL": SUPABASE_URL, "JWT_SECRET": SECRET })
}

fn context(env: &Value, jwks: &str) -> Context {
    Context {
        now_micros: NOW_MICROS,
        env: serde_json::from_value(env.clone()).unwrap(),
        jwks: Jwks::from_host(jwks).unwrap(),
    }
}

fn request(authorization: Option<&str>) -> Request<'static> {
    let headers: BTreeMap<String, String> = authorization
        .map(|a| ("authorization".to_owned(), a.to_owned()))
        .into_iter()
        .collect();
    Request {
        method: "POST".into(),
        url: "/".into(),
        headers,
        request_id: String::new(),
        body: b"",
    }
}

/// The caller, or the code it is refused with (`refresh_jwks` for the
/// refresh), with `env` and the host's `jwks`.
fn outcome_with(authorization: Option<&str>, env: &Value, jwks: &str) -> Result<Caller, String> {
    caller(&request(authorization), &context(env, jwks)).map_err(|e| match e {
        AuthError::RefreshJwks => "refresh_jwks".to_owned(),
        AuthError::Refused(r) => {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            let code = body["code"].as_str().unwrap().to_owned();
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
            match r.status {
                401 => assert_eq!(r.headers["www-authenticate"], "Bearer"),
                500 => assert_eq!(code, "not_configured"),
                503 => assert_eq!((code.as_str(), r.headers["retry-after"].as_str()), ("auth_unavailable", "5")),
                other => panic!("unexpected status {other}"),
            }
            code
        }
    })
}

fn outcome(token: &str) -> Result<Caller, String> {
    outcome_with(Some(&format!("Bearer {token}")), &auth_env(), &host_jwks())
}

fn the_user() -> Result<Caller, String> {
    Ok(Caller::User {
        id: USER.into(),
        claims: user_claims(),
    })
}

fn refused(code: &str) -> Result<Caller, String> {
    Err(code.into())
}

fn anonymous() -> Result<Caller, String> {
    Ok(Caller::Anon {
        claims: json!({ "role": "anon" }),
    })
}

/// A token with this header and claims and the given signature bytes,
/// assembled by hand: for shapes no library would sign.
fn assembled(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{}", part(header), part(claims), URL_SAFE_NO_PAD.encode(signature))
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

#[test]
fn a_user_token_of_either_published_key_during_a_rotation() {
    assert_eq!(outcome(&ES256.sign(&user_claims())), the_user());
    assert_eq!(outcome(&RS256.sign(&user_claims())), the_user());
    let lower_scheme = format!("bearer {}", user_token());
    assert_eq!(outcome_with(Some(&lower_scheme), &auth_env(), &host_jwks()), the_user());
}

#[test]
fn a_legacy_hs256_user_token_with_the_secret() {
    assert_eq!(outcome(&sign_hs256(&user_claims(), SECRET.as_bytes())), the_user());
    let fallback = json!({ "SUPABASE_URL": SUPABASE_URL, "SUPABASE_JWT_SECRET": SECRET });
    let token = format!("Bearer {}", sign_hs256(&user_claims(), SECRET.as_bytes()));
    assert_eq!(outcome_with(Some(&token), &fallback, &host_jwks()), the_user());
    // JWT_SECRET wins over SUPABASE_JWT_SECRET; an empty one counts as unset.
    let both = json!({ "JWT_SECRET": "another-secret-another-secret-another-secret", "SUPABASE_JWT_SECRET": SECRET });
    assert_eq!(outcome_with(Some(&token), &both, "{}"), refused("invalid_token"));
    let empty = json!({ "JWT_SECRET": "", "SUPABASE_JWT_SECRET": SECRET });
    assert_eq!(outcome_with(Some(&token), &empty, "{}"), the_user());
}

#[test]
fn api_keys_need_no_audience() {
    assert_eq!(
        outcome(&service_key()),
        Ok(Caller::Service {
            claims: api_key_claims(SERVICE_ROLE)
        })
    );
    assert_eq!(
        outcome(&anon_key()),
        Ok(Caller::Anon {
            claims: api_key_claims(ANON_ROLE)
        })
    );
    let service_es256 = ES256.sign(&api_key_claims(SERVICE_ROLE));
    assert!(matches!(outcome(&service_es256), Ok(Caller::Service { .. })));
}

#[test]
fn no_token_and_publishable_keys_are_anonymous() {
    let env = auth_env();
    for authorization in [
        None,
        Some("Bearer sb_publishable_ZmFrZS1wdWJsaXNoYWJsZS1rZXk"),
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer "),
    ] {
        assert_eq!(outcome_with(authorization, &env, &host_jwks()), anonymous(), "{authorization:?}");
    }
    // Even where nothing could verify a token, there is nothing to verify.
    assert_eq!(outcome_with(None, &json!({}), "{}"), anonymous());
}

#[test]
fn without_the_legacy_secret_the_anon_key_is_anonymous_and_hs256_users_are_refused() {
    let jwks_only = json!({ "SUPABASE_URL": SUPABASE_URL });
    let bearer = |token: String| format!("Bearer {token}");
    // The verified claims are not available; the caller gets only the role.
    assert_eq!(outcome_with(Some(&bearer(anon_key())), &jwks_only, &host_jwks()), anonymous());
    let hs256_user = sign_hs256(&user_claims(), SECRET.as_bytes());
    assert_eq!(
        outcome_with(Some(&bearer(hs256_user)), &jwks_only, &host_jwks()),
        refused("invalid_token")
    );
    assert_eq!(
        outcome_with(Some(&bearer(service_key())), &jwks_only, &host_jwks()),
        refused("invalid_token")
    );
    assert_eq!(outcome_with(Some(&bearer(user_token())), &jwks_only, &host_jwks()), the_user());
}

#[test]
fn nothing_to_verify_with_is_not_configured() {
    for token in [user_token(), service_key(), anon_key(), "not.a.jwt".to_owned()] {
        let bearer = format!("Bearer {token}");
        assert_eq!(outcome_with(Some(&bearer), &json!({}), "{}"), refused("not_configured"));
        assert_eq!(
            outcome_with(Some(&bearer), &json!({ "JWT_SECRET": "", "SUPABASE_URL": " " }), "{}"),
            refused("not_configured")
        );
    }
}

#[test]
fn without_a_jwks_key_pair_tokens_are_refused() {
    let secret_only = json!({ "JWT_SECRET": SECRET });
    let bearer = format!("Bearer {}", user_token());
    assert_eq!(outcome_with(Some(&bearer), &secret_only, "{}"), refused("invalid_token"));
    // A JWKS the host passes is used even without SUPABASE_URL.
    assert_eq!(outcome_with(Some(&bearer), &secret_only, &host_jwks()), the_user());
}

#[test]
fn an_unknown_kid_asks_for_the_jwks_once_then_is_refused() {
    let stranger = format!("Bearer {}", STRANGER.sign(&user_claims()));
    let env = auth_env();
    let stale = jwks_json(published(&[&ES256, &RS256]), false);
    let fresh = jwks_json(published(&[&ES256, &RS256]), true);
    assert_eq!(outcome_with(Some(&stranger), &env, &stale), refused("refresh_jwks"));
    assert_eq!(outcome_with(Some(&stranger), &env, &fresh), refused("invalid_token"));
    // The host had no copy: fetch it; it could not: 503, retry later.
    assert_eq!(
        outcome_with(Some(&stranger), &env, &jwks_json(Value::Null, false)),
        refused("refresh_jwks")
    );
    assert_eq!(
        outcome_with(Some(&stranger), &env, &jwks_json(Value::Null, true)),
        refused("auth_unavailable")
    );
    let user = format!("Bearer {}", user_token());
    assert_eq!(outcome_with(Some(&user), &env, "{}"), refused("refresh_jwks"));
    assert_eq!(
        outcome_with(Some(&user), &env, &jwks_json(Value::Null, true)),
        refused("auth_unavailable")
    );
}

#[test]
fn a_new_key_is_found_after_the_refresh() {
    let rotated_to = format!("Bearer {}", RS256.sign(&user_claims()));
    let env = auth_env();
    assert_eq!(
        outcome_with(Some(&rotated_to), &env, &jwks_json(published(&[&ES256]), false)),
        refused("refresh_jwks")
    );
    assert_eq!(
        outcome_with(Some(&rotated_to), &env, &jwks_json(published(&[&ES256, &RS256]), true)),
        the_user()
    );
}

#[test]
fn a_revoked_key_is_refused() {
    let old = format!("Bearer {}", RS256.sign(&user_claims()));
    let env = auth_env();
    assert_eq!(outcome_with(Some(&old), &env, &host_jwks()), the_user());
    let revoked = jwks_json(published(&[&ES256]), true);
    assert_eq!(outcome_with(Some(&old), &env, &revoked), refused("invalid_token"));
}

#[test]
fn a_foreign_key_under_a_published_kid_is_refused() {
    assert_eq!(outcome(&STRANGER.sign_as(ES256.kid, &user_claims())), refused("invalid_token"));
    // A key carried in the token's own header is never used.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(ES256.kid.into());
    header.jwk = Some(serde_json::from_value(STRANGER.jwk()).unwrap());
    let embedded = encode(&header, &user_claims(), &STRANGER.encoding_key()).unwrap();
    assert_eq!(outcome(&embedded), refused("invalid_token"));
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    let claims = user_claims();
    for alg in [
        "none", "None", "NONE", "", "HS384", "HS512", "ES384", "RS512", "PS256", "EdDSA", "ES256K",
    ] {
        let header = json!({ "alg": alg, "typ": "JWT", "kid": ES256.kid });
        for signature in [&b""[..], &[0u8; 64][..]] {
            assert_eq!(outcome(&assembled(&header, &claims, signature)), refused("invalid_token"), "{alg}");
        }
    }
    let no_alg = json!({ "typ": "JWT", "kid": ES256.kid });
    assert_eq!(outcome(&assembled(&no_alg, &claims, b"")), refused("invalid_token"));
    // A genuine token with its signature stripped.
    let token = user_token();
    let (unsigned, _) = token.rsplit_once('.').unwrap();
    assert_eq!(outcome(&format!("{unsigned}.")), refused("invalid_token"));
}

#[test]
fn hs256_signed_with_a_public_key_is_refused() {
    // The confusion attack: HMAC keyed with bytes of the published key.
    let jwk = ES256.jwk();
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap();
    let sec1 = [&[4u8][..], &x, &y].concat();
    let n = URL_SAFE_NO_PAD.decode(RS256.jwk()["n"].as_str().unwrap()).unwrap();
    let jwk_text = jwk.to_string().into_bytes();
    let rsa_jwk_text = RS256.jwk().to_string().into_bytes();
    for public in [sec1, n, jwk_text, rsa_jwk_text] {
        for kid in [ES256.kid, RS256.kid] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(kid.into());
            let token = encode(&header, &user_claims(), &EncodingKey::from_secret(&public).unwrap()).unwrap();
            let bearer = format!("Bearer {token}");
            assert_eq!(outcome(&token), refused("invalid_token"));
            let jwks_only = json!({ "SUPABASE_URL": SUPABASE_URL });
            assert_eq!(outcome_with(Some(&bearer), &jwks_only, &host_jwks()), refused("invalid_token"));
        }
    }
}

#[test]
fn the_key_must_be_of_the_tokens_algorithm() {
    // An ES256 header naming the RSA key, and the other way round.
    let es_on_rsa = assembled(&json!({ "alg": "ES256", "kid": RS256.kid }), &user_claims(), &[1; 64]);
    assert_eq!(outcome(&es_on_rsa), refused("invalid_token"));
    assert_eq!(outcome(&ES256.sign_as(RS256.kid, &user_claims())), refused("invalid_token"));
    assert_eq!(outcome(&RS256.sign_as(ES256.kid, &user_claims())), refused("invalid_token"));
    let env = auth_env();
    let token = format!("Bearer {}", user_token());
    let listed_as = |edit: &dyn Fn(&mut Value)| {
        let mut jwk = ES256.jwk();
        edit(&mut jwk);
        outcome_with(Some(&token), &env, &jwks_json(json!({ "keys": [jwk] }), true))
    };
    assert_eq!(listed_as(&|_| {}), the_user());
    assert_eq!(
        listed_as(&|jwk| {
            let key = jwk.as_object_mut().unwrap();
            for field in ["alg", "key_ops", "ext"] {
                key.remove(field);
            }
        }),
        the_user()
    );
    assert_eq!(listed_as(&|jwk| jwk["use"] = json!("sig")), the_user());
    assert_eq!(listed_as(&|jwk| jwk["alg"] = json!("ES384")), refused("invalid_token"));
    assert_eq!(listed_as(&|jwk| jwk["alg"] = json!("HS256")), refused("invalid_token"));
    assert_eq!(listed_as(&|jwk| jwk["use"] = json!("enc")), refused("invalid_token"));
    assert_eq!(listed_as(&|jwk| jwk["key_ops"] = json!(["sign"])), refused("invalid_token"));
    assert_eq!(listed_as(&|jwk| jwk["crv"] = json!("P-384")), refused("invalid_token"));
    // A symmetric key in the JWKS is never an HMAC secret.
    let oct = json!({ "kty": "oct", "kid": "oct-1", "k": URL_SAFE_NO_PAD.encode(b"published-secret"), "alg": "HS256" });
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("oct-1".into());
    let hs = encode(&header, &user_claims(), &EncodingKey::from_secret(b"published-secret").unwrap()).unwrap();
    let jwks_only = json!({ "SUPABASE_URL": SUPABASE_URL });
    let with_oct = jwks_json(json!({ "keys": [ES256.jwk(), oct] }), true);
    assert_eq!(
        outcome_with(Some(&format!("Bearer {hs}")), &jwks_only, &with_oct),
        refused("invalid_token")
    );
}

#[test]
fn expiry_and_not_before_with_thirty_seconds_of_skew() {
    let at = |claims: Value| outcome(&ES256.sign(&claims));
    let user = || user_claims();
    assert_eq!(at(with(user(), "exp", json!(NOW_S - 31))), refused("token_expired"));
    assert_eq!(at(with(user(), "exp", json!(NOW_S - 30))), refused("token_expired"));
    assert!(at(with(user(), "exp", json!(NOW_S - 29))).is_ok());
    assert!(at(with(user(), "exp", json!(NOW_S as f64 - 29.5))).is_ok());
    assert_eq!(at(without(user(), "exp")), refused("invalid_token"));
    assert_eq!(at(with(user(), "exp", json!("2099-01-01"))), refused("invalid_token"));
    assert_eq!(at(with(user(), "exp", Value::Null)), refused("invalid_token"));
    assert_eq!(at(with(user(), "nbf", json!(NOW_S + 31))), refused("invalid_token"));
    assert!(at(with(user(), "nbf", json!(NOW_S + 30))).is_ok());
    assert!(at(with(user(), "nbf", json!(NOW_S - 3600))).is_ok());
    assert_eq!(at(with(user(), "nbf", json!("soon"))), refused("invalid_token"));
    // An expired forgery is a forgery: the signature is checked first.
    let forged_and_old = STRANGER.sign_as(ES256.kid, &with(user(), "exp", json!(NOW_S - 3600)));
    assert_eq!(outcome(&forged_and_old), refused("invalid_token"));
}

#[test]
fn a_user_token_needs_the_audience_and_a_user_id() {
    let at = |claims: Value| outcome(&ES256.sign(&claims));
    let user = || user_claims();
    assert_eq!(at(with(user(), "aud", json!("another-app"))), refused("invalid_token"));
    assert_eq!(at(with(user(), "aud", json!(["another-app"]))), refused("invalid_token"));
    assert_eq!(at(with(user(), "aud", json!(7))), refused("invalid_token"));
    assert_eq!(at(without(user(), "aud")), refused("invalid_token"));
    let both = with(user(), "aud", json!(["another-app", "authenticated"]));
    assert_eq!(
        at(both.clone()),
        Ok(Caller::User {
            id: USER.into(),
            claims: both
        })
    );
    assert_eq!(at(without(user(), "sub")), refused("invalid_token"));
    assert_eq!(at(with(user(), "sub", json!("not-a-uuid"))), refused("invalid_token"));
    assert_eq!(at(without(user(), "role")), refused("invalid_token"));
    assert_eq!(at(with(user(), "role", json!("supabase_admin"))), refused("invalid_token"));
    assert_eq!(at(with(user(), "role", json!(["authenticated"]))), refused("invalid_token"));
}

#[test]
fn malformed_bearers_are_invalid() {
    let huge = format!("{}.{}.x", "a".repeat(MAX_TOKEN_BYTES), "b");
    for token in [
        "abc",
        "a.b.c.d",
        "!!.??.**",
        "..",
        "sb_secret_ZmFrZS1zZWNyZXQta2V5",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln",
        huge.as_str(),
    ] {
        assert_eq!(outcome(token), refused("invalid_token"), "{token:.40}");
    }
    let not_an_object = assembled(&json!({ "alg": "HS256" }), &json!([1, 2]), b"");
    assert_eq!(outcome(&not_an_object), refused("invalid_token"));
    let hs_array = sign_hs256(&json!(["role", "anon"]), SECRET.as_bytes());
    assert_eq!(outcome(&hs_array), refused("invalid_token"));
}

#[test]
fn anonymous_callers_of_user_functions_are_told_to_sign_in() {
    let code = |authorization: Option<&str>| {
        let r = sign_in_required(&request(authorization));
        assert_eq!((r.status, r.headers["www-authenticate"].as_str()), (401, "Bearer"));
        serde_json::from_str::<Value>(&r.body).unwrap()["code"].as_str().unwrap().to_owned()
    };
    assert_eq!(code(None), "missing_token");
    assert_eq!(code(Some("Basic dXNlcjpwYXNz")), "missing_token");
    assert_eq!(code(Some(&format!("Bearer {}", anon_key()))), "sign_in_required");
    assert_eq!(code(Some("Bearer sb_publishable_x")), "sign_in_required");
}

#[test]
fn the_hosts_jwks_document() {
    let read = |json: &str| Jwks::from_host(json).unwrap();
    assert!(read("{}").keys.is_none() && !read("{}").fresh);
    assert!(read(r#"{"jwks": null, "fresh": true}"#).fresh);
    for not_a_jwks in [r#"{"jwks": "<html>"}"#, r#"{"jwks": {"keys": {}}}"#, r#"{"jwks": []}"#] {
        assert!(read(not_a_jwks).keys.is_none(), "{not_a_jwks}");
    }
    assert!(Jwks::from_host("not json").is_err());
    // A key this crate cannot read does not hide the others.
    let odd = json!({ "kty": "ML-DSA", "kid": 7 });
    let mixed = read(&jwks_json(json!({ "keys": [odd, ES256.jwk(), RS256.jwk()] }), false));
    let kids: Vec<_> = mixed.keys.unwrap().keys.iter().map(|k| k.common.key_id.clone().unwrap()).collect();
    assert_eq!(kids, [ES256.kid, RS256.kid]);
}

/// The caller at `now_s`, with the given host JWKS, through the instance's
/// memory of verified tokens.
fn outcome_at(token: &str, now_s: i64, jwks: &str) -> Result<Caller, String> {
    let ctx = Context {
        now_micros: now_s * 1_000_000,
        ..context(&auth_env(), jwks)
    };
    caller(&request(Some(&format!("Bearer {token}"))), &ctx).map_err(|e| match e {
        AuthError::RefreshJwks => "refresh_jwks".to_owned(),
        AuthError::Refused(r) => serde_json::from_str::<Value>(&r.body).unwrap()["code"].as_str().unwrap().to_owned(),
    })
}

fn remembered(token: &str) -> bool {
    VERIFIED.with_borrow(|verified| verified.claims.contains_key(token))
}

fn forget_verified() {
    VERIFIED.set(VerifiedTokens::default());
}

#[test]
fn a_remembered_token_is_refused_once_it_expires() {
    forget_verified();
    let token = ES256.sign(&with(user_claims(), "exp", json!(NOW_S + 60)));
    assert_eq!(outcome_at(&token, NOW_S, &host_jwks()), Ok(the_caller(&token)));
    assert!(remembered(&token));
    assert!(outcome_at(&token, NOW_S + 60 + 29, &host_jwks()).is_ok());
    assert_eq!(outcome_at(&token, NOW_S + 60 + 30, &host_jwks()), refused("token_expired"));
    assert_eq!(outcome_at(&token, NOW_S + 3600, &host_jwks()), refused("token_expired"));
    // Not yet valid is checked on every use too.
    let later = ES256.sign(&with(user_claims(), "nbf", json!(NOW_S + 100)));
    assert!(outcome_at(&later, NOW_S + 100, &host_jwks()).is_ok());
    assert_eq!(outcome_at(&later, NOW_S, &host_jwks()), refused("invalid_token"));
}

/// The caller a genuine user token of [`user_claims`] with changed times names.
fn the_caller(token: &str) -> Caller {
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token).unwrap();
    Caller::User { id: USER.into(), claims }
}

#[test]
fn a_remembered_token_is_checked_again_under_another_key_set() {
    forget_verified();
    let token = RS256.sign(&user_claims());
    assert_eq!(outcome_at(&token, NOW_S, &host_jwks()), the_user());
    assert!(remembered(&token));
    // Its key revoked: the key set changed, the memory does not answer.
    let revoked = jwks_json(published(&[&ES256]), true);
    assert_eq!(outcome_at(&token, NOW_S, &revoked), refused("invalid_token"));
    // A set whose key of that kid is another one: verified against it, refused.
    let mut swapped = STRANGER.jwk();
    swapped["kid"] = json!(RS256.kid);
    let impostor = jwks_json(json!({ "keys": [swapped] }), true);
    assert_eq!(outcome_at(&token, NOW_S, &host_jwks()), the_user());
    assert_eq!(outcome_at(&token, NOW_S, &impostor), refused("invalid_token"));
    // The host has no copy: nothing is answered from memory.
    assert_eq!(outcome_at(&token, NOW_S, &host_jwks()), the_user());
    assert_eq!(outcome_at(&token, NOW_S, &jwks_json(Value::Null, false)), refused("refresh_jwks"));
}

#[test]
fn forgeries_and_refused_tokens_are_never_remembered() {
    forget_verified();
    let forged = STRANGER.sign_as(ES256.kid, &user_claims());
    let expired = ES256.sign(&with(user_claims(), "exp", json!(NOW_S - 3600)));
    let no_user = ES256.sign(&without(user_claims(), "sub"));
    for token in [&forged, &expired, &no_user] {
        for _ in 0..2 {
            assert!(outcome_at(token, NOW_S, &host_jwks()).is_err());
        }
        assert!(!remembered(token));
    }
    // HS256 is cheap to check and bound to a secret, not a key set: never remembered.
    let hs = sign_hs256(&user_claims(), SECRET.as_bytes());
    assert_eq!(outcome_at(&hs, NOW_S, &host_jwks()), the_user());
    assert!(!remembered(&hs));
    assert!(VERIFIED.with_borrow(VerifiedTokens::is_empty));
}

#[test]
fn the_memory_is_bounded() {
    let key_set = Some([7; 32]);
    let mut verified = VerifiedTokens::default();
    let claims = user_claims().as_object().unwrap().clone();
    for i in 0..MAX_VERIFIED_TOKENS + 100 {
        verified.insert(&format!("token-{i}"), key_set, claims.clone());
    }
    assert_eq!(verified.len(), MAX_VERIFIED_TOKENS);
    assert!(verified.get("token-0", key_set).is_none(), "the oldest go first");
    assert!(verified.get(&format!("token-{}", MAX_VERIFIED_TOKENS + 99), key_set).is_some());
    let long = "x".repeat(MAX_VERIFIED_TOKEN_BYTES + 1);
    verified.insert(&long, key_set, claims.clone());
    assert!(verified.get(&long, key_set).is_none());
    verified.insert("token-new", Some([8; 32]), claims);
    assert_eq!(verified.len(), 1, "another key set forgets the rest");
    assert!(verified.get("token-new", key_set).is_none());
}

/// A token with one character replaced, cut short, or lengthened.
fn mutated(token: &str, at: usize, with: char, how: u8) -> String {
    let at = at % (token.len() + 1);
    let mut chars: Vec<char> = token.chars().collect();
    match how % 3 {
        0 if at < chars.len() => chars[at] = with,
        1 => chars.truncate(at),
        _ => chars.insert(at, with),
    }
    chars.into_iter().collect()
}

/// A user token of each published key, signed once for the property tests.
static GENUINE: LazyLock<[String; 2]> = LazyLock::new(|| [user_token(), RS256.sign(&user_claims())]);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Hostile tokens never panic, and no change to a genuine token is
    /// accepted with claims other than the genuine ones.
    #[test]
    fn mutated_tokens_never_pass_as_someone_else(
        at in 0usize..2000,
        with in prop::char::any(),
        how in 0u8..3,
        rsa in any::<bool>(),
    ) {
        let token = mutated(&GENUINE[usize::from(rsa)], at, with, how);
        match outcome(&token) {
            // Cut to nothing, it is no token at all: an anonymous caller.
            Ok(Caller::Anon { .. }) if token.trim().is_empty() => {}
            Ok(caller) => prop_assert_eq!(Ok(caller), the_user()),
            Err(code) => prop_assert!(["invalid_token", "refresh_jwks", "sign_in_required"].contains(&code.as_str()), "{}", code),
        }
    }

    /// Any header and claims, any signature: refused or verified, never a panic.
    #[test]
    fn arbitrary_tokens_are_refused_without_panicking(
        alg in prop::sample::select(vec!["HS256", "ES256", "RS256", "none", "PS256", "HS512"]),
        kid in prop::option::of(prop::sample::select(vec!["ec-2027", "rsa-2026", "ec-stranger", ""])),
        role in prop::option::of(prop::sample::select(vec!["authenticated", "anon", "service_role", "postgres"])),
        exp in prop::option::of(any::<i64>()),
        signature in prop::collection::vec(any::<u8>(), 0..300),
        raw in ".{0,64}",
    ) {
        let header = json!({ "alg": alg, "kid": kid });
        let claims = json!({ "role": role, "exp": exp, "sub": USER, "aud": "authenticated" });
        prop_assert!(outcome(&assembled(&header, &claims, &signature)).is_err());
        let verified = matches!(outcome(&raw), Ok(Caller::User { .. } | Caller::Service { .. }));
        prop_assert!(!verified);
    }
}

proptest! {
    // Each case signs a token (RSA signing is slow in a debug build): fewer cases.
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Answered from memory or verified afresh, a token gets the same answer,
    /// whenever it is used.
    #[test]
    fn remembered_and_fresh_verifications_agree(
        exp_in in -120i64..120,
        used_after in prop::collection::vec(-60i64..240, 1..6),
        rsa in any::<bool>(),
    ) {
        let key = if rsa { &RS256 } else { &ES256 };
        let token = key.sign(&with(user_claims(), "exp", json!(NOW_S + exp_in)));
        forget_verified();
        let _ = outcome_at(&token, NOW_S, &host_jwks());
        for after in used_after {
            let from_memory = outcome_at(&token, NOW_S + after, &host_jwks());
            forget_verified();
            let fresh = outcome_at(&token, NOW_S + after, &host_jwks());
            prop_assert_eq!(from_memory, fresh);
        }
    }
}
