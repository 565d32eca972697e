//! ticket-keys through the host protocol.

use super::*;
use crate::tickets::tests::{keys, token, SEED};
use crate::tickets::TTL_S;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

fn call(method: &str, env: &Value) -> Value {
    let head = json!({ "method": method, "url": "http://127.0.0.1:54321/functions/v1/ticket-keys", "headers": {} });
    let out = crate::handle("ticket-keys", &head.to_string(), b"", 1.8e12, &env.to_string(), "{}");
    serde_json::from_str::<Value>(&out).unwrap()["respond"].clone()
}

#[test]
fn publishes_the_public_key_without_sign_in() {
    let answer = call("GET", &json!({ "TICKET_SIGNING_KEY": SEED }));
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["headers"]["cache-control"], "public, max-age=3600");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "keys": [{ "kid": 1, "alg": "Ed25519", "public_key": keys().public_key() }] })
    );
    assert!(!answer["body"].as_str().unwrap().contains(SEED));
}

#[test]
fn a_scanner_verifies_a_token_with_the_published_key_alone() {
    let answer = call("GET", &json!({ "TICKET_SIGNING_KEY": SEED }));
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    let public: [u8; 32] = URL_SAFE_NO_PAD
        .decode(body["keys"][0]["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let token = token(1, TTL_S);
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).unwrap().try_into().unwrap();
    let key = VerifyingKey::from_bytes(&public).unwrap();
    assert!(key.verify_strict(signed.as_bytes(), &Signature::from_bytes(&signature)).is_ok());
}

#[test]
fn methods_and_configuration() {
    let env = json!({ "TICKET_SIGNING_KEY": SEED });
    assert_eq!(call("POST", &env)["status"], 405);
    assert_eq!(call("OPTIONS", &env)["status"], 204);
    let missing = call("GET", &json!({}));
    assert_eq!(missing["status"], 500);
    assert!(missing["body"].as_str().unwrap().contains("not_configured"));
}
