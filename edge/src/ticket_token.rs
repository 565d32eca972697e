//! `GET /functions/v1/ticket-token?ticket=<uuid>[&qr=none]`: a fresh signed
//! token and its QR code for one of the caller's tickets. `qr=none` leaves the
//! QR code out, for an app that draws it from the token itself: encoding a
//! QR code (error correction, the eight masks scored) is most of this
//! function's own work.
//!
//! `concierto.ticket_for_token` runs as the caller (`authenticated`, with the
//! token's claims) and answers only for the
//! ticket's owner, with the ticket's current version (a transfer bumps it, so
//! the tokens issued before are refused at the door). The token is signed here,
//! good for [`TTL_S`](tickets::TTL_S) seconds; the app asks again before then.

use crate::http::{self, Action, Request, Response};
use crate::tickets::{self, Keys};
use crate::Context;
use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Value};

const TICKET_SQL: &str = "select concierto.ticket_for_token($1::uuid) as result";

pub fn handle(request: &Request, ctx: &Context) -> Result<Action, Action> {
    http::expect_method(request, "GET")?;
    Keys::from_env(&ctx.env)?;
    let session = tickets::user_session(request, ctx)?;
    let ticket = ticket_param(&request.url)?;
    let mut state = json!({ "ticket_id": ticket });
    if !wants_qr(&request.url)? {
        state["qr"] = json!(false);
    }
    Ok(Action::query(session, TICKET_SQL, vec![json!(ticket)], state))
}

/// Signs a token for the version the database gave and answers it with its
/// QR code.
pub fn complete(state: &Value, rows: &Value, ctx: &Context) -> Response {
    let Ok(keys) = Keys::from_env(&ctx.env) else {
        return Response::internal_because("TICKET_SIGNING_KEY was not given to complete");
    };
    let result = rows.get(0).and_then(|row| row.get("result"));
    let ticket_id = result
        .and_then(|r| r["ticket_id"].as_str())
        .and_then(tickets::parse_uuid)
        .filter(|id| state["ticket_id"].as_str() == Some(tickets::format_uuid(id).as_str()));
    let version = result.and_then(|r| r["version"].as_u64()).and_then(|v| u32::try_from(v).ok());
    let expires_s = u32::try_from(ctx.now_micros.div_euclid(1_000_000) + i64::from(tickets::TTL_S)).ok();
    let (Some(ticket_id), Some(version), Some(expires_s)) = (ticket_id, version, expires_s) else {
        return Response::internal_because("concierto.ticket_for_token did not answer this ticket and a version");
    };
    let token = keys.sign(ticket_id, version, expires_s);
    let expires_at = DateTime::from_timestamp(i64::from(expires_s), 0)
        .expect("a u32 of seconds is a valid time")
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut body = json!({
        "token": token,
        "expires_at": expires_at,
        "ticket_id": tickets::format_uuid(&ticket_id),
        "version": version,
    });
    if state["qr"] != json!(false) {
        body["qr_svg"] = json!(tickets::qr_svg(&token));
    }
    Response::json(200, &body).with_header("cache-control", "no-store")
}

/// The values of the query parameter `name`, in order.
fn param<'u>(url: &'u str, name: &str) -> Vec<&'u str> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .filter(|(n, _)| *n == name)
        .map(|(_, value)| value)
        .collect()
}

/// The `ticket` query parameter: exactly one, a UUID.
fn ticket_param(url: &str) -> Result<String, Response> {
    match param(url, "ticket")[..] {
        [value] if tickets::parse_uuid(value).is_some() => Ok(value.to_ascii_lowercase()),
        _ => Err(Response::error(400, "invalid_ticket", "name one ticket by its id: ?ticket=<uuid>")),
    }
}

/// The `qr` query parameter: absent or `svg` for the QR code's SVG, `none`
/// for the token alone.
fn wants_qr(url: &str) -> Result<bool, Response> {
    match param(url, "qr")[..] {
        [] | ["svg"] => Ok(true),
        ["none"] => Ok(false),
        _ => Err(Response::error(
            400,
            "invalid_qr",
            "qr is svg (the default) or none (the token alone)",
        )),
    }
}

#[cfg(test)]
mod tests;
