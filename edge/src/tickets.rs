//! Signed ticket tokens, shared by `ticket-token` (which issues them),
//! `ticket-validate` (which checks them at the door) and `ticket-keys` (which
//! publishes the public key, so scanners can check them offline).
//!
//! A token is `BKT1.<payload>.<signature>`, both parts base64url without
//! padding. The payload is 25 bytes: the ticket's UUID (16), its version (u32
//! big-endian), the expiry in Unix seconds (u32 big-endian) and the key id
//! (u8). The signature is Ed25519 over the ASCII bytes `BKT1.<payload>`, so a
//! verifier checks the text it scanned without decoding it first. The private
//! key lives only in the edge environment (`TICKET_SIGNING_KEY`); the database
//! never sees it. See docs/concierto-tokens.md.

use crate::auth::{self, Caller};
use crate::db::{self, DbError, Session};
use crate::http::{Action, Request, Response};
use crate::{Context, Env};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use buckets_core::passport::validate::is_canonical_uuid;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};
use std::cell::RefCell;

pub const PREFIX: &str = "BKT1.";
/// How long a token is good for, in seconds: the app fetches a fresh one
/// before then, so a screenshot of the QR code is soon worthless.
pub const TTL_S: u32 = 60;
/// How far a scanner's clock may be from the server's, in seconds: a scan
/// may be dated this much before its token was issued, or after the upload.
pub const CLOCK_SKEW_S: u32 = 60;
/// The id of `TICKET_SIGNING_KEY` in tokens and in `ticket-keys`.
pub const KID: u8 = 1;
pub const PAYLOAD_BYTES: usize = 25;
const PAYLOAD_CHARS: usize = 34;
const SIGNATURE_CHARS: usize = 86;
/// Every token has exactly this many characters.
pub const TOKEN_CHARS: usize = PREFIX.len() + PAYLOAD_CHARS + 1 + SIGNATURE_CHARS;
const SEED_BYTES: usize = 32;

/// What a token says about its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    pub ticket_id: [u8; 16],
    pub version: u32,
    /// Unix seconds; the token is good strictly before this second.
    pub expires_s: u32,
    pub kid: u8,
}

impl Claims {
    fn to_bytes(self) -> [u8; PAYLOAD_BYTES] {
        let mut bytes = [0; PAYLOAD_BYTES];
        bytes[..16].copy_from_slice(&self.ticket_id);
        bytes[16..20].copy_from_slice(&self.version.to_be_bytes());
        bytes[20..24].copy_from_slice(&self.expires_s.to_be_bytes());
        bytes[24] = self.kid;
        bytes
    }

    fn from_bytes(bytes: &[u8; PAYLOAD_BYTES]) -> Claims {
        let u32_at = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
        Claims {
            ticket_id: bytes[..16].try_into().expect("sixteen bytes"),
            version: u32_at(16),
            expires_s: u32_at(20),
            kid: bytes[24],
        }
    }

    /// The ticket's id as the database writes it.
    pub fn ticket_uuid(&self) -> String {
        format_uuid(&self.ticket_id)
    }
}

/// Why a token is refused; `code` is what the caller branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `BKT1.<25 bytes>.<64 bytes>` in canonical base64url.
    MalformedToken,
    /// Signed with a key id this server does not have.
    UnknownKey,
    /// The signature does not match: forged or altered.
    InvalidSignature,
    /// Genuine, but scanned before it was issued (its expiry less
    /// [`TTL_S`]), by more than [`CLOCK_SKEW_S`].
    NotYetValid,
    /// Genuine, but scanned at or after its expiry.
    ExpiredToken,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::MalformedToken => "malformed_token",
            Refusal::UnknownKey => "unknown_key",
            Refusal::InvalidSignature => "invalid_signature",
            Refusal::NotYetValid => "token_not_yet_valid",
            Refusal::ExpiredToken => "expired_token",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::MalformedToken => "this is not a Buckets ticket code (BKT1.<payload>.<signature>)",
            Refusal::UnknownKey => "the ticket code is signed with a key this server does not know",
            Refusal::InvalidSignature => "the ticket code's signature does not match: it is forged or altered",
            Refusal::NotYetValid => "the scan is dated before the ticket code was issued: check the scanner's clock",
            Refusal::ExpiredToken => "the ticket code has expired; ask the holder to open the ticket again for a fresh code",
        }
    }

    /// How `ticket-validate` answers a single token it refuses.
    pub fn response(self) -> Response {
        Response::error(422, self.code(), self.message())
    }
}

/// The signing key and its id.
#[derive(Clone)]
pub struct Keys {
    signing: SigningKey,
    kid: u8,
}

impl Keys {
    pub fn from_seed(seed: &[u8; SEED_BYTES]) -> Keys {
        Keys {
            signing: SigningKey::from_bytes(seed),
            kid: KID,
        }
    }

    /// The key of `TICKET_SIGNING_KEY`: a 32-byte Ed25519 seed in base64url.
    /// Deriving the public key from the seed is a scalar multiplication, so
    /// the last key derived is kept, with the exact text it came from.
    pub fn from_env(env: &Env) -> Result<Keys, Response> {
        let text = env.ticket_signing_key.as_deref().map(str::trim).unwrap_or_default();
        crate::read_once(&LAST_KEYS, text, Self::from_seed_text)
    }

    fn from_seed_text(text: &str) -> Result<Keys, Response> {
        if text.is_empty() {
            return Err(not_configured(
                "TICKET_SIGNING_KEY is not set: set it to a 32-byte Ed25519 seed in base64url with supabase secrets set",
            ));
        }
        let seed: [u8; SEED_BYTES] = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| not_configured("TICKET_SIGNING_KEY must be 32 bytes in base64url without padding (43 characters)"))?;
        Ok(Keys::from_seed(&seed))
    }

    pub fn kid(&self) -> u8 {
        self.kid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public key as `ticket-keys` publishes it: 32 bytes in base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.verifying_key().as_bytes())
    }

    /// A token for version `version` of the ticket, good until `expires_s`.
    pub fn sign(&self, ticket_id: [u8; 16], version: u32, expires_s: u32) -> String {
        let claims = Claims {
            ticket_id,
            version,
            expires_s,
            kid: self.kid,
        };
        let signed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(claims.to_bytes()));
        let signature = self.signing.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The claims of a genuine token that is good at `at_micros` (now at the
    /// door, or when an offline scanner read it): within its lifetime, from
    /// its issue ([`TTL_S`] before its expiry, less [`CLOCK_SKEW_S`] for the
    /// scanner's clock) to just before its expiry.
    pub fn verify(&self, token: &str, at_micros: i64) -> Result<Claims, Refusal> {
        let (signed, payload, signature) = split(token).ok_or(Refusal::MalformedToken)?;
        let payload: [u8; PAYLOAD_BYTES] = decode(payload).ok_or(Refusal::MalformedToken)?;
        let signature: [u8; 64] = decode(signature).ok_or(Refusal::MalformedToken)?;
        let claims = Claims::from_bytes(&payload);
        if claims.kid != self.kid {
            return Err(Refusal::UnknownKey);
        }
        self.verifying_key()
            .verify_strict(signed.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| Refusal::InvalidSignature)?;
        let expires_micros = i64::from(claims.expires_s) * 1_000_000;
        if at_micros < expires_micros - i64::from(TTL_S + CLOCK_SKEW_S) * 1_000_000 {
            return Err(Refusal::NotYetValid);
        }
        if at_micros >= expires_micros {
            return Err(Refusal::ExpiredToken);
        }
        Ok(claims)
    }
}

thread_local! {
    /// The keys of the last `TICKET_SIGNING_KEY` read (WASM runs one thread).
    static LAST_KEYS: RefCell<Option<(String, Keys)>> = const { RefCell::new(None) };
}

/// The signed text `BKT1.<payload>`, the payload and the signature, when
/// the token has the prefix and two parts of the right lengths.
fn split(token: &str) -> Option<(&str, &str, &str)> {
    let (payload, signature) = token.strip_prefix(PREFIX)?.split_once('.')?;
    if payload.len() != PAYLOAD_CHARS || signature.len() != SIGNATURE_CHARS {
        return None;
    }
    Some((&token[..PREFIX.len() + PAYLOAD_CHARS], payload, signature))
}

/// Canonical base64url of exactly `N` bytes. The decoder refuses set
/// trailing bits, so each token has one spelling only.
fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// The quiet zone around a QR code, in modules, as the standard asks.
const QUIET_ZONE: usize = 4;
/// How large the SVG says it is, in CSS pixels per module; it scales freely.
const PIXELS_PER_MODULE: usize = 4;

/// The mask of every token's QR code. The standard has the encoder try all
/// eight masks and keep the one whose pattern scores lowest (fewest long
/// runs, blocks and finder look-alikes); scanners read whichever mask the
/// code names in its format bits. That search was nearly all of the
/// encoding's cost (natively 127 µs per token with `fast_qr`, 12.5 µs with
/// the mask fixed; docs/concierto-tokens.md). Mask 0, the checkerboard, breaks every run and
/// block of the data; a token's payload changes with each request (its
/// expiry) and the app fetches a new one within a minute, so no unlucky
/// pattern outlives its token. `the_qr_code_decodes_to_the_token` decodes
/// hundreds of random tokens to show it.
const MASK: u8 = 0;

/// The QR code of a token as an SVG document (error correction M, with the
/// standard four-module quiet zone), for the app to show full width.
///
/// Each row's runs of dark modules are one stroke of the path, one module
/// thick (`M<x> <y>.5h<run>m<gap> 0h<run>…`), in module units: about 4 KB
/// for a token, where a square per module was 22 KB. The viewBox keeps it
/// sharp at any size. The code is `qrcodegen`'s with the mask fixed
/// ([`MASK`]); encoding with the `qrcode` crate cost about 3 ms of the
/// function's CPU per token in WASM, `fast_qr`'s mask search about 0.6 ms.
pub fn qr_svg(token: &str) -> String {
    let code = QrCode::encode_segments_advanced(
        &[QrSegment::make_bytes(token.as_bytes())],
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        Some(Mask::new(MASK)),
        true,
    )
    .unwrap_or_else(|_| panic!("a token always fits a QR code"));
    let width = usize::try_from(code.size()).expect("a QR code's size is positive");
    let dark: Vec<bool> = (0..width * width)
        .map(|i| code.get_module((i % width) as i32, (i / width) as i32))
        .collect();
    let size = width + 2 * QUIET_ZONE;
    let pixels = size * PIXELS_PER_MODULE;
    let mut path = String::with_capacity(4 * width * width / 3);
    // Numbers written by itoa: format! per run was half the SVG's time.
    let mut digits = itoa::Buffer::new();
    for (y, row) in dark.chunks(width).enumerate() {
        let mut pen: Option<usize> = None;
        let mut x = 0;
        while x < width {
            if !row[x] {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|&&d| d).count();
            match pen {
                None => {
                    path.push('M');
                    path.push_str(digits.format(x + QUIET_ZONE));
                    path.push(' ');
                    path.push_str(digits.format(y + QUIET_ZONE));
                    path.push_str(".5");
                }
                Some(end) => {
                    path.push('m');
                    path.push_str(digits.format(x - end));
                    path.push_str(" 0");
                }
            }
            path.push('h');
            path.push_str(digits.format(run));
            x += run;
            pen = Some(x);
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{pixels}\" height=\"{pixels}\" \
         viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"none\" stroke=\"#000\" stroke-width=\"1\" d=\"{path}\"/></svg>"
    )
}

/// The session of the signed-in user calling: the door functions' queries
/// run as that user, `authenticated` with the token's claims. Tickets are
/// held and checked by people: the service role key gets 403.
pub fn user_session(request: &Request, ctx: &Context) -> Result<Session, Action> {
    match auth::caller(request, ctx)? {
        user @ Caller::User { .. } => Ok(Session::of(&user)),
        Caller::Service { .. } => Err(Response::error(
            403,
            "user_token_required",
            "call with the signed-in user's access token, not the service role key",
        )
        .into()),
        Caller::Anon { .. } => Err(auth::sign_in_required(request).into()),
    }
}

/// The 16 bytes of a UUID written `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    if !is_canonical_uuid(text) {
        return None;
    }
    hex::decode(text.replace('-', "")).ok()?.try_into().ok()
}

/// A UUID as Postgres writes it: lowercase, hyphenated.
pub fn format_uuid(bytes: &[u8; 16]) -> String {
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The errors the Concierto door functions raise, as HTTP, the rest as
/// every function answers them. `not_found` is the code of P0002: what the
/// function looks up (the ticket for a token, the event at the door).
pub fn error_response(error: &DbError, not_found: &str) -> Response {
    let message = || error.message.clone().unwrap_or_default();
    match error.code.as_deref() {
        Some("P0002") => Response::error(404, not_found, message()),
        Some("55000") => Response::error(409, "ticket_void", message()),
        // Two scans of one ticket met; the next attempt sees the winner's.
        Some("40001" | "40P01") => Response::error(
            503,
            "retry",
            "another scan of this ticket was being recorded at the same moment; retry now",
        )
        .with_header("retry-after", "0"),
        _ => db::error_response(error),
    }
}

fn not_configured(message: &str) -> Response {
    Response::error(500, "not_configured", message)
}

#[cfg(test)]
pub(crate) mod tests;
