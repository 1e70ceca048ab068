//! TOTP (RFC 6238) for administrators and managers: enrolment (the `otpauth://` URI shown as
//! text for an authenticator app), removal, and the second step of sign-in. Codes are 6 digits
//! over HMAC-SHA1 (RFC 4226) with 30-second steps; one step either side is accepted for clock
//! drift.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use marque_core::authlog::Attempt;
use marque_core::{CoreError, PrincipalId};
use marque_store::{now_ms, now_secs};
use maud::html;
use rand::RngCore;

use super::ctx::{Ctx, Posted, client_ip, forbidden, read_form, same_origin};
use super::layout::{self, Brand};
use super::session::{self, Sessions};
use super::{Tls, brand};
use crate::state::AppState;

/// RFC 6238 §4: the time step.
const STEP: u64 = 30;
/// Bytes of a new secret (RFC 4226 §4 recommends 160 bits).
const SECRET_LEN: usize = 20;

/// RFC 4226 §5.3: the HOTP value of `counter`, 6 digits.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    bin % 1_000_000
}

/// The code for `unix_secs` (RFC 6238 §4.2).
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    format!("{:06}", hotp(secret, unix_secs / STEP))
}

/// True if `code` is the code of the current step or one either side.
pub fn verify(secret: &[u8], code: &str, unix_secs: u64) -> bool {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    [unix_secs.saturating_sub(STEP), unix_secs, unix_secs + STEP]
        .iter()
        .any(|t| code_at(secret, *t) == code)
}

/// RFC 4648 §6 base32, without padding (what authenticator apps take).
pub fn base32(bytes: &[u8]) -> String {
    const ABC: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(ABC[((buf >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(ABC[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The inverse of [`base32`].
pub fn unbase32(s: &str) -> Option<Vec<u8>> {
    let (mut buf, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.trim().trim_end_matches('=').bytes() {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buf = (buf << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

fn staff_id(ctx: &Ctx) -> Result<marque_core::StaffId, CoreError> {
    ctx.actor()
        .principal
        .staff()
        .ok_or_else(|| CoreError::invalid("totp", "only administrators and managers use TOTP"))
}

/// `GET /admin/totp`: the state, and enrolment with a fresh secret.
pub async fn page(ctx: Ctx) -> Response {
    let id = match staff_id(&ctx) {
        Ok(i) => i,
        Err(e) => return ctx.error(e),
    };
    let enrolled = match ctx.st.core.staff_totp(id).await {
        Ok(s) => s.is_some(),
        Err(e) => return ctx.error(e),
    };
    let mut secret = [0u8; SECRET_LEN];
    rand::rng().fill_bytes(&mut secret);
    let b32 = base32(&secret);
    let label = format!("{}:{}", ctx.brand.name, ctx.actor().principal.name);
    let issuer = ctx.brand.name.clone();
    let query = serde_urlencoded::to_string([
        ("secret", b32.as_str()),
        ("issuer", issuer.as_str()),
        ("algorithm", "SHA1"),
        ("digits", "6"),
        ("period", "30"),
    ])
    .unwrap_or_default();
    let uri = format!(
        "otpauth://totp/{}?{query}",
        label.replace(' ', "%20").replace('/', "%2F")
    );
    let body = html! {
        @if enrolled {
            p { "A second factor is set up: sign-in asks for a code from your authenticator app." }
            form.inline method="post" action="/admin/totp/remove" {
                (layout::csrf(&ctx))
                label { "Current code" input name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required pattern="[0-9 ]{6,7}"; }
                button.secondary type="submit" { "Remove the second factor" }
            }
        } @else {
            p { "Add this account to an authenticator app, then enter the code it shows." }
            dl.facts {
                dt { "Key" } dd { code { (b32) } }
                dt { "URI" } dd { code #otpauth { (uri) } }
            }
            form.inline method="post" action="/admin/totp" {
                (layout::csrf(&ctx))
                input type="hidden" name="secret" value=(b32);
                label { "Code" input name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required pattern="[0-9 ]{6,7}"; }
                button type="submit" { "Turn on" }
            }
        }
    };
    ctx.page("Two-step sign-in", body)
}

/// `POST /admin/totp`: enrols the secret shown once a code from it checks.
pub async fn enrol(p: Posted) -> Response {
    let ctx = &p.ctx;
    let r = async {
        let id = staff_id(ctx)?;
        let secret = unbase32(p.get("secret"))
            .filter(|s| s.len() == SECRET_LEN)
            .ok_or_else(|| CoreError::invalid("secret", "reload the page and try again"))?;
        if !verify(&secret, p.get("code"), now_secs()) {
            return Err(CoreError::invalid(
                "code",
                "that code does not match; try the next one",
            ));
        }
        ctx.st
            .core
            .set_staff_totp(ctx.actor(), id, Some(secret))
            .await?;
        Ok("Two-step sign-in is on.".to_string())
    }
    .await;
    ctx.done("/admin/totp", r).await
}

/// `POST /admin/totp/remove`: removes the second factor, given a current code.
pub async fn remove(p: Posted) -> Response {
    let ctx = &p.ctx;
    let r = async {
        let id = staff_id(ctx)?;
        let secret = ctx.st.core.staff_totp(id).await?.unwrap_or_default();
        if !verify(&secret, p.get("code"), now_secs()) {
            return Err(CoreError::invalid("code", "that code does not match"));
        }
        ctx.st.core.set_staff_totp(ctx.actor(), id, None).await?;
        Ok("Two-step sign-in is off.".to_string())
    }
    .await;
    ctx.done("/admin/totp", r).await
}

/// The code form of sign-in's second step.
pub fn code_page(brand: &Brand, pending: &str, error: Option<&str>) -> Response {
    layout::bare_branded(
        "Sign in: code",
        brand,
        html! {
            @if let Some(e) = error { (layout::message(true, e)) }
            form.stack method="post" action="/admin/login/code" {
                input type="hidden" name="pending" value=(pending);
                label { "Code from your authenticator app"
                    input name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus pattern="[0-9 ]{6,7}"; }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// `POST /admin/login/code`: checks the code of a pending sign-in and opens the session.
/// Each try is in the authentication log; a pending sign-in allows five tries.
pub async fn login_code(State(st): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let brand = brand::for_host(&st, &parts.headers).await;
    if !same_origin(&parts.headers) {
        return forbidden(&brand, "This form was sent from another site.");
    }
    let ip = client_ip(&parts);
    let tls = parts.extensions.get::<Tls>().is_some_and(|t| t.0);
    let Some(sessions) = parts.extensions.get::<Sessions>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let fields = match read_form(Request::from_parts(parts, body), &brand).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let pending = fields.get("pending").map(String::as_str).unwrap_or("");
    let code = fields.get("code").map(String::as_str).unwrap_or("");
    let (actor, tries) = match sessions.pending_try(pending, now_ms()).await {
        Ok(Some(p)) => p,
        Ok(None) => return Redirect::to("/admin/login").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "could not read a pending panel sign-in");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let secret = match actor.principal.id {
        PrincipalId::Staff(id) => st.core.staff_totp(id).await.ok().flatten(),
        _ => None,
    };
    let ok = secret.is_some_and(|s| verify(&s, code, now_secs()));
    let attempt = Attempt {
        protocol: "panel",
        login: &actor.principal.name,
        remote: &ip,
        mechanism: "totp",
    };
    let (outcome, reason) = if ok {
        ("success", "")
    } else {
        ("failure", "wrong TOTP code")
    };
    if let Err(e) = st
        .core
        .record_auth(attempt, &actor.principal.path, outcome, reason)
        .await
    {
        tracing::warn!(error = %e, "could not record a panel TOTP check");
    }
    if !ok {
        if tries >= 5 {
            if let Err(e) = sessions.pending_drop(pending).await {
                tracing::warn!(error = %e, "could not drop a pending panel sign-in");
            }
            return Redirect::to("/admin/login").into_response();
        }
        let mut r = code_page(&brand, pending, Some("That code does not match."));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    }
    let opened = match sessions.pending_drop(pending).await {
        Ok(()) => sessions.open(actor, now_ms()).await,
        Err(e) => Err(e),
    };
    let s = match opened {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "could not open a panel session");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mut r = Redirect::to("/admin").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&s.id, tls)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    layout::secure(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1, truncated to 6 digits.
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(code_at(secret, 1_111_111_109), "081804");
        assert_eq!(code_at(secret, 1_234_567_890), "005924");
        assert_eq!(code_at(secret, 20_000_000_000), "353130");
        assert!(verify(secret, "287082", 59 + 30));
        assert!(!verify(secret, "287082", 59 + 90));
        assert!(!verify(secret, "28708", 59));
    }

    #[test]
    fn base32_round_trip() {
        // RFC 4648 §10.
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(unbase32("MZXW6YTBOI").as_deref(), Some(&b"foobar"[..]));
        let s = [7u8; SECRET_LEN];
        assert_eq!(unbase32(&base32(&s)).as_deref(), Some(&s[..]));
        assert!(unbase32("not base32!").is_none());
    }
}
