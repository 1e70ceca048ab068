//! Sign-in, sign-out and password change. Staff sign in by user name, mailboxes by address;
//! every attempt goes through [`marque_core::Core::sign_in`] with protocol `panel`, so it lands
//! in the authentication log, and every failure shows the same message whatever was wrong.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use marque_core::authlog::Attempt;
use marque_core::{CoreError, PrincipalId};
use marque_store::now_ms;
use maud::html;

use super::ctx::{Ctx, Posted, client_ip, forbidden, read_form, same_origin};
use super::layout::{self, Brand};
use super::session::{self, Sessions};
use super::{Tls, brand};
use crate::state::AppState;

/// The one message for every failed sign-in.
const FAILED: &str = "Sign-in failed: check the name or address and the password.";

/// The answer when the session table cannot be written.
fn unavailable(brand: &Brand, login: &str, e: marque_store::Error) -> Response {
    tracing::warn!(error = %e, "could not open a panel session");
    let mut r = login_page(brand, Some("Sign-in is unavailable right now."), login);
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r
}

fn login_page(brand: &Brand, error: Option<&str>, login: &str) -> Response {
    layout::bare_branded(
        "Sign in",
        brand,
        html! {
            @if let Some(e) = error { (layout::message(true, e)) }
            form.stack method="post" action="/admin/login" {
                label {
                    "User name or email address"
                    input name="login" type="text" autocomplete="username" required autofocus value=(login);
                }
                label {
                    "Password"
                    input name="password" type="password" autocomplete="current-password" required;
                }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// `GET /admin/login`.
pub async fn login_form(State(st): State<AppState>, headers: HeaderMap) -> Response {
    login_page(&brand::for_host(&st, &headers).await, None, "")
}

/// `POST /admin/login`: signs in, opens a session, sets its cookie.
pub async fn login(State(st): State<AppState>, req: Request) -> Response {
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
    // Guessing is slowed per client address, as for API tokens.
    if let Err(wait) = st.take(&format!("panel-login:{ip}")).await {
        let mut r = login_page(&brand, Some("Too many attempts: wait a moment."), "");
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let fields = match read_form(Request::from_parts(parts, body), &brand).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let login = fields.get("login").map(|s| s.trim()).unwrap_or("");
    let password = fields.get("password").map(String::as_str).unwrap_or("");
    if login.is_empty() || password.is_empty() {
        let mut r = login_page(&brand, Some(FAILED), login);
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    }
    let attempt = Attempt {
        protocol: "panel",
        login,
        remote: &ip,
        mechanism: "password",
    };
    match st.core.sign_in(attempt, password).await {
        Ok(actor) => {
            let actor = actor.with_source(ip);
            // Staff with a second factor give its code before the session opens.
            if let Some(id) = actor.principal.staff() {
                match st.core.staff_totp(id).await {
                    Ok(Some(_)) => {
                        return match sessions.pending_open(actor, now_ms()).await {
                            Ok(token) => super::totp::code_page(&brand, &token, None),
                            Err(e) => unavailable(&brand, login, e),
                        };
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read a TOTP enrolment");
                        let mut r =
                            login_page(&brand, Some("Sign-in is unavailable right now."), login);
                        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        return r;
                    }
                }
            }
            let s = match sessions.open(actor, now_ms()).await {
                Ok(s) => s,
                Err(e) => return unavailable(&brand, login, e),
            };
            let mut r = Redirect::to("/admin").into_response();
            if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&s.id, tls)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            layout::secure(r)
        }
        Err(CoreError::AuthFailed) => {
            let mut r = login_page(&brand, Some(FAILED), login);
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        // The sign-in throttle, shared with the mail services, refuses this address for now.
        Err(CoreError::SignInRefused { retry_after_secs }) => {
            let mut r = login_page(
                &brand,
                Some("Too many failed sign-ins from your address: try again later."),
                login,
            );
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => {
            tracing::warn!(error = %e, "panel sign-in could not complete");
            let mut r = login_page(&brand, Some("Sign-in is unavailable right now."), login);
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }
    }
}

/// `POST /admin/logout`: ends the session and removes the cookie.
pub async fn logout(p: Posted) -> Response {
    if let Err(e) = p.ctx.sessions.close(&p.ctx.session.id).await {
        tracing::warn!(error = %e, "could not end a panel session");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut r = Redirect::to("/admin/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie(p.ctx.tls)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    layout::secure(r)
}

/// `GET /admin/password`.
pub async fn password_form(ctx: Ctx) -> Response {
    let body = html! {
        form.stack method="post" action="/admin/password" {
            (layout::csrf(&ctx))
            label { "Current password" input name="current" type="password" autocomplete="current-password" required; }
            label { "New password" input name="new" type="password" autocomplete="new-password" required minlength="8"; }
            label { "New password again" input name="confirm" type="password" autocomplete="new-password" required minlength="8"; }
            button type="submit" { "Change password" }
        }
    };
    ctx.page("Password", body)
}

/// `POST /admin/password`: checks the current password, then sets the new one.
pub async fn password(p: Posted) -> Response {
    let ctx = &p.ctx;
    let actor = ctx.actor().clone();
    let (current, new, confirm) = (p.raw("current"), p.raw("new"), p.raw("confirm"));
    if new != confirm {
        return ctx
            .done(
                "/admin/password",
                Err(CoreError::invalid(
                    "password",
                    "the two new passwords differ",
                )),
            )
            .await;
    }
    let core = &ctx.st.core;
    // The current password is a sign-in like any other: logged, and slowed or refused by the
    // throttle every service shares, so this form cannot be used to guess it faster.
    let attempt = Attempt {
        protocol: "panel",
        login: &actor.principal.name,
        remote: &ctx.ip,
        mechanism: "password",
    };
    let refusal = match core.sign_in(attempt, current).await {
        Ok(_) => None,
        Err(CoreError::AuthFailed) => Some(CoreError::invalid(
            "password",
            "the current password is wrong",
        )),
        Err(CoreError::SignInRefused { .. }) => Some(CoreError::invalid(
            "password",
            "too many failed sign-ins from your address: try again later",
        )),
        Err(e) => Some(e),
    };
    if let Some(e) = refusal {
        return ctx.done("/admin/password", Err(e)).await;
    }
    let set = match actor.principal.id {
        PrincipalId::Mailbox(_) => core.set_password(&actor, &actor.principal.name, new).await,
        PrincipalId::Staff(id) => core.set_staff_password(&actor, id, new.to_string()).await,
        PrincipalId::Operator => Err(CoreError::invalid(
            "password",
            "the operator has no password",
        )),
    };
    ctx.done("/admin/password", set.map(|()| "Password changed.".into()))
        .await
}
