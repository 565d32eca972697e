//! `GET /functions/v1/ticket-keys`: the public keys that verify ticket
//! tokens, for scanners that check tokens offline. No sign-in needed: a
//! public key is public, so the `Authorization` header is not read at all.

use crate::http::{self, Action, Request, Response};
use crate::tickets::Keys;
use crate::Context;
use serde_json::json;

/// Scanners may keep the keys this long before asking again.
const MAX_AGE_S: u32 = 3600;

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "GET")?;
    let keys = Keys::from_env(&ctx.env)?;
    let body = json!({
        "keys": [{ "kid": keys.kid(), "alg": "Ed25519", "public_key": keys.public_key() }],
    });
    Ok(Action::respond(
        Response::json(200, &body).with_header("cache-control", &format!("public, max-age={MAX_AGE_S}")),
    ))
}

#[cfg(test)]
mod tests;
