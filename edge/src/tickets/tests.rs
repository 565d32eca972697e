//! The token format: signing, every refusal, tampering, expiry, keys, QR.

use super::*;
use crate::auth::tests::NOW_MICROS;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The key the ticket tests sign with: the local stack's (`./stack env`), so that
/// the worked example of docs/concierto-tokens.md verifies with its public key.
pub const SEED: &str = "4GbLka5YhbBdEfjfo7GIZI0lFr-niyevYmbvaXPXxOA";
pub const TICKET: &str = "5d0c7a52-8f3e-4b1a-9c6d-2e7f8a9b0c1d";
pub const NOW_S: u32 = (NOW_MICROS / 1_000_000) as u32;

pub fn env() -> Env {
    Env {
        ticket_signing_key: Some(SEED.into()),
        ..Env::default()
    }
}

pub fn keys() -> Keys {
    Keys::from_env(&env()).unwrap()
}

/// A token for version `version` of [`TICKET`] that expires `ttl_s` after now.
pub fn token(version: u32, ttl_s: u32) -> String {
    keys().sign(parse_uuid(TICKET).unwrap(), version, NOW_S + ttl_s)
}

/// A key that is not the server's, under key id `kid`.
pub fn other_keys(seed_byte: u8, kid: u8) -> Keys {
    Keys {
        signing: SigningKey::from_bytes(&[seed_byte; 32]),
        kid,
    }
}

fn refusal(token: &str) -> Refusal {
    refusal_by(&keys(), token)
}

fn refusal_by(keys: &Keys, token: &str) -> Refusal {
    keys.verify(token, NOW_MICROS).unwrap_err()
}

/// The token with its decoded payload or signature changed by `edit`.
fn reencoded(token: &str, part: usize, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let parts: Vec<&str> = token[PREFIX.len()..].split('.').collect();
    let mut bytes = URL_SAFE_NO_PAD.decode(parts[part]).unwrap();
    edit(&mut bytes);
    let mut parts: Vec<String> = parts.into_iter().map(str::to_owned).collect();
    parts[part] = URL_SAFE_NO_PAD.encode(bytes);
    format!("{PREFIX}{}", parts.join("."))
}

#[test]
fn a_token_round_trips() {
    let token = token(7, TTL_S);
    assert_eq!(token.len(), TOKEN_CHARS);
    assert!(token.starts_with("BKT1."));
    let claims = keys().verify(&token, NOW_MICROS).unwrap();
    assert_eq!(
        claims,
        Claims {
            ticket_id: parse_uuid(TICKET).unwrap(),
            version: 7,
            expires_s: NOW_S + TTL_S,
            kid: KID,
        }
    );
    assert_eq!(claims.ticket_uuid(), TICKET);
}

#[test]
fn the_format_is_stable() {
    // Ed25519 is deterministic: the same key and claims always give this
    // token (the worked example of docs/concierto-tokens.md).
    let token = token(1, TTL_S);
    let (payload, signature) = token[PREFIX.len()..].split_once('.').unwrap();
    assert_eq!(
        hex::encode(URL_SAFE_NO_PAD.decode(payload).unwrap()),
        "5d0c7a528f3e4b1a9c6d2e7f8a9b0c1d000000016b49d23c01"
    );
    assert_eq!(signature.len(), 86);
    // Both checked against WebCrypto's Ed25519 (Deno), an independent implementation.
    assert_eq!(keys().public_key(), "kcnoO-P2rUxPm12V789gKK1Nl2AOL09YlQluX67Unx8");
    assert_eq!(
        token,
        "BKT1.XQx6Uo8-SxqcbS5_ipsMHQAAAAFrSdI8AQ.\
         Ds8oeeKhk_cZ6BDVnFXK66mF2O9xVrN8-Tq-oorGD_FJ-Yyd43yrlpfoJw1ue_--JW7Fpsg999L8AKBNfk9eAg"
    );
}

#[test]
fn extreme_claims_round_trip() {
    for (version, expires_s) in [(0, u32::MAX), (u32::MAX, u32::MAX), (1, NOW_S + 1)] {
        let token = keys().sign([0xff; 16], version, expires_s);
        let claims = keys().verify(&token, i64::from(expires_s) * 1_000_000 - 1).unwrap();
        assert_eq!((claims.version, claims.expires_s), (version, expires_s));
        assert_eq!(claims.ticket_uuid(), "ffffffff-ffff-ffff-ffff-ffffffffffff");
    }
}

#[test]
fn malformed_tokens() {
    let good = token(1, TTL_S);
    let (signed, signature) = good.rsplit_once('.').unwrap();
    let cases = [
        String::new(),
        "BKT1.".into(),
        good.replacen("BKT1.", "BKT2.", 1),
        good.replacen("BKT1.", "bkt1.", 1),
        good[PREFIX.len()..].to_owned(),
        format!("{signed}{signature}"),
        format!("{signed}.{signature}.x"),
        format!("{signed}..{signature}"),
        format!("{good}="),
        format!(" {good}"),
        format!("{good}\n"),
        good[..good.len() - 1].to_owned(),
        format!("{signed}.{}", &signature[1..]),
        format!("{signed}x.{signature}"),
        // Standard base64 instead of base64url, padding, characters outside the alphabet.
        format!("{signed}.{}+", &signature[..85]),
        format!("{signed}.{}/", &signature[..85]),
        format!("{}=.{signature}", &signed[..signed.len() - 1]),
        format!("{signed}.{}*", &signature[..85]),
        format!("{signed}.{}é", &signature[..84]),
    ];
    for token in cases {
        assert_eq!(refusal(&token), Refusal::MalformedToken, "{token:?}");
    }
}

#[test]
fn non_canonical_base64_is_malformed() {
    // 25 bytes take 34 characters, whose last carries 4 unused bits; 64 take
    // 86, whose last carries 2. Setting one of them spells the same bytes
    // differently, which is refused so that a token has one spelling only.
    let good = token(1, TTL_S);
    let set_low_bit = |text: &str, at: usize| {
        let mut bytes = text.as_bytes().to_vec();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.iter().position(|&c| c == bytes[at]).unwrap();
        bytes[at] = alphabet[index | 1];
        String::from_utf8(bytes).unwrap()
    };
    let payload_end = PREFIX.len() + 34 - 1;
    let signature_end = good.len() - 1;
    for at in [payload_end, signature_end] {
        let changed = set_low_bit(&good, at);
        assert_ne!(changed, good);
        assert_eq!(refusal(&changed), Refusal::MalformedToken, "{at}");
    }
}

#[test]
fn a_forged_signature_is_invalid() {
    let forged = other_keys(9, KID).sign(parse_uuid(TICKET).unwrap(), 1, NOW_S + TTL_S);
    assert_eq!(refusal(&forged), Refusal::InvalidSignature);
    let good = token(1, TTL_S);
    let zeroed = reencoded(&good, 1, |sig| sig.fill(0));
    assert_eq!(refusal(&zeroed), Refusal::InvalidSignature);
    // A genuine signature on other claims.
    let other = token(2, TTL_S);
    let swapped = format!("{}.{}", good.rsplit_once('.').unwrap().0, other.rsplit_once('.').unwrap().1);
    assert_eq!(refusal(&swapped), Refusal::InvalidSignature);
}

#[test]
fn an_unknown_key_id_is_refused_before_the_signature() {
    let other_kid = other_keys(9, 2).sign(parse_uuid(TICKET).unwrap(), 1, NOW_S + TTL_S);
    assert_eq!(refusal(&other_kid), Refusal::UnknownKey);
    let same_key_other_kid = Keys {
        signing: keys().signing,
        kid: 0,
    }
    .sign(parse_uuid(TICKET).unwrap(), 1, NOW_S + TTL_S);
    assert_eq!(refusal(&same_key_other_kid), Refusal::UnknownKey);
}

#[test]
fn flipping_any_bit_of_payload_or_signature_is_refused() {
    let (keys, good) = (keys(), token(3, TTL_S));
    for byte in 0..PAYLOAD_BYTES {
        for bit in 0..8 {
            let tampered = reencoded(&good, 0, |p| p[byte] ^= 1 << bit);
            let want = if byte == 24 {
                Refusal::UnknownKey
            } else {
                Refusal::InvalidSignature
            };
            assert_eq!(refusal_by(&keys, &tampered), want, "payload byte {byte} bit {bit}");
        }
    }
    for byte in 0..64 {
        for bit in 0..8 {
            let tampered = reencoded(&good, 1, |s| s[byte] ^= 1 << bit);
            assert_eq!(
                refusal_by(&keys, &tampered),
                Refusal::InvalidSignature,
                "signature byte {byte} bit {bit}"
            );
        }
    }
}

#[test]
fn flipping_any_bit_of_the_text_is_refused() {
    let (keys, good) = (keys(), token(3, TTL_S));
    for at in 0..good.len() {
        for bit in 0..8 {
            let mut bytes = good.as_bytes().to_vec();
            bytes[at] ^= 1 << bit;
            // A flip that makes invalid UTF-8 cannot even reach the verifier.
            if let Ok(text) = String::from_utf8(bytes) {
                assert!(keys.verify(&text, NOW_MICROS).is_err(), "char {at} bit {bit}");
            }
        }
    }
}

#[test]
fn expiry_edges() {
    let token = token(1, TTL_S);
    let expires_micros = i64::from(NOW_S + TTL_S) * 1_000_000;
    let at = |micros: i64| keys().verify(&token, micros);
    assert!(at(expires_micros - 1).is_ok());
    assert_eq!(at(expires_micros), Err(Refusal::ExpiredToken));
    assert_eq!(at(expires_micros + 1), Err(Refusal::ExpiredToken));
    assert_eq!(at(i64::MAX), Err(Refusal::ExpiredToken));
    // From its issue (TTL_S before the expiry), less a scanner's clock skew.
    let issued_micros = expires_micros - i64::from(TTL_S) * 1_000_000;
    assert!(at(issued_micros).is_ok());
    let earliest = issued_micros - i64::from(CLOCK_SKEW_S) * 1_000_000;
    assert!(at(earliest).is_ok());
    assert_eq!(at(earliest - 1), Err(Refusal::NotYetValid));
    // A scan dated an hour before the token existed.
    assert_eq!(at(NOW_MICROS - 3_600_000_000), Err(Refusal::NotYetValid));
    assert_eq!(at(i64::MIN), Err(Refusal::NotYetValid));
    let expired_at_epoch = keys().sign([1; 16], 1, 0);
    assert_eq!(keys().verify(&expired_at_epoch, 0), Err(Refusal::ExpiredToken));
    assert!(keys().verify(&expired_at_epoch, -1).is_ok());
}

#[test]
fn the_expiry_is_checked_after_the_signature() {
    // An expired forgery is a forgery: the codes never tell a forger that
    // only the date is wrong.
    let forged_and_old = other_keys(9, KID).sign(parse_uuid(TICKET).unwrap(), 1, NOW_S - 10);
    assert_eq!(refusal(&forged_and_old), Refusal::InvalidSignature);
}

#[test]
fn every_refusal_has_a_code_and_a_422() {
    let all = [
        (Refusal::MalformedToken, "malformed_token"),
        (Refusal::UnknownKey, "unknown_key"),
        (Refusal::InvalidSignature, "invalid_signature"),
        (Refusal::NotYetValid, "token_not_yet_valid"),
        (Refusal::ExpiredToken, "expired_token"),
    ];
    for (refusal, code) in all {
        assert_eq!(refusal.code(), code);
        let response = refusal.response();
        assert_eq!(response.status, 422);
        let body: Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(body["code"], code);
        assert_eq!(body["message"], refusal.message());
    }
}

#[test]
fn the_signing_key_comes_from_the_environment() {
    let answer = |key: Option<&str>| {
        let env = Env {
            ticket_signing_key: key.map(Into::into),
            ..Env::default()
        };
        Keys::from_env(&env).map(|k| k.public_key()).map_err(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            (r.status, body["code"].as_str().unwrap().to_owned())
        })
    };
    let not_configured = Err((500, "not_configured".to_owned()));
    for bad in [
        None,
        Some(""),
        Some("  "),
        Some("not base64!"),
        Some(&SEED[..42]),
        Some(&format!("{SEED}A")),
        Some(&format!("{SEED}=")),
    ] {
        assert_eq!(answer(bad), not_configured, "{bad:?}");
    }
    let public = answer(Some(SEED)).unwrap();
    assert_eq!(answer(Some(&format!(" {SEED}\n"))).unwrap(), public);
    assert_eq!(URL_SAFE_NO_PAD.decode(&public).unwrap().len(), 32);
    assert_eq!(public, URL_SAFE_NO_PAD.encode(keys().verifying_key().to_bytes()));
}

#[test]
fn rfc_8032_test_vector_1() {
    // The library signs as the standard says (RFC 8032, section 7.1, TEST 1).
    let seed: [u8; 32] = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        .unwrap()
        .try_into()
        .unwrap();
    let keys = Keys::from_seed(&seed);
    assert_eq!(
        hex::encode(keys.verifying_key().as_bytes()),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    assert_eq!(
        hex::encode(keys.signing.sign(b"").to_bytes()),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
}

/// The dark modules of an SVG from [`qr_svg`], as a greyscale image of its
/// own size: the path is one-module-thick strokes through the middle of each
/// row, `M<x> <y>.5` (absolute), `m<dx> <dy>` (relative) and `h<run>`.
fn rasterize(svg: &str) -> (usize, Vec<u8>) {
    let size: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|w| w.parse().ok())
        .expect("a square viewBox");
    assert!(svg.contains("stroke-width=\"1\""), "{svg}");
    let mut image = vec![255u8; size * size];
    let path = svg.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
    let (mut x, mut y) = (0.0f64, 0.0f64);
    let mut commands = path.char_indices().filter(|(_, c)| c.is_ascii_alphabetic()).peekable();
    while let Some((at, command)) = commands.next() {
        let end = commands.peek().map_or(path.len(), |(next, _)| *next);
        let numbers: Vec<f64> = path[at + 1..end].split(' ').map(|n| n.parse().unwrap()).collect();
        match (command, &numbers[..]) {
            ('M', [nx, ny]) => (x, y) = (*nx, *ny),
            ('m', [dx, dy]) => (x, y) = (x + dx, y + dy),
            ('h', [run]) => {
                assert_eq!(y.fract(), 0.5, "a stroke runs through the middle of a row");
                let row = y.floor() as usize;
                image[row * size + x as usize..row * size + (x + run) as usize].fill(0);
                x += run;
            }
            other => panic!("unexpected path command {other:?}"),
        }
    }
    (size, image)
}

/// The fixed mask ([`super::MASK`]) must leave every token readable: tokens
/// of many tickets, versions and expiries (each a different pattern), drawn
/// and scanned back.
#[test]
fn the_qr_code_decodes_to_the_token() {
    let fixed = [1, 2, u32::MAX].map(|version| token(version, TTL_S));
    let varied = (0..400u32).map(|i| {
        let mut ticket = [0u8; 16];
        ticket.copy_from_slice(&Sha256::digest(i.to_be_bytes())[..16]);
        keys().sign(ticket, i.wrapping_mul(2_654_435_761), NOW_S + i)
    });
    for token in fixed.into_iter().chain(varied) {
        let svg = qr_svg(&token);
        assert!(svg.starts_with("<?xml"), "{svg}");
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        // One stroke per run of dark modules: a few KB, where a square per module was 22 KB.
        assert!(svg.len() < 5 * 1024, "the SVG has {} bytes", svg.len());
        let (size, image) = rasterize(&svg);
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| image[y * size + x]);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, token);
    }
}

#[test]
fn uuids_parse_and_print_as_postgres_does() {
    let upper = TICKET.to_ascii_uppercase();
    assert_eq!(parse_uuid(&upper), parse_uuid(TICKET));
    assert_eq!(format_uuid(&parse_uuid(&upper).unwrap()), TICKET);
    for bad in [
        "",
        "5d0c7a528f3e4b1a9c6d2e7f8a9b0c1d",
        "{5d0c7a52-8f3e-4b1a-9c6d-2e7f8a9b0c1d}",
        "5d0c7a52-8f3e-4b1a-9c6d-2e7f8a9b0c1g",
    ] {
        assert_eq!(parse_uuid(bad), None, "{bad}");
    }
}

#[test]
fn door_errors_map_to_http() {
    let answer = |code: &str| {
        let r = error_response(
            &DbError {
                code: Some(code.into()),
                message: Some("the message".into()),
                detail: None,
            },
            "thing_not_found",
        );
        let body: Value = serde_json::from_str(&r.body).unwrap();
        (
            r.status,
            body["code"].as_str().unwrap().to_owned(),
            body["message"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(answer("P0002"), (404, "thing_not_found".into(), "the message".into()));
    assert_eq!(answer("55000"), (409, "ticket_void".into(), "the message".into()));
    let retry = answer("40001");
    assert_eq!((retry.0, retry.1.as_str()), (503, "retry"));
    assert!(!retry.2.contains("the message"), "a 5xx never carries the database's words");
    assert_eq!(answer("40P01").0, 503);
    assert_eq!(answer("42501"), (403, "forbidden".into(), "the message".into()));
    assert_eq!(answer("22023"), (400, "invalid_request".into(), "the message".into()));
    assert_eq!(answer("XX000").0, 500);
}
