//! The page frame: header with the brand, navigation for the signed-in role, the flash
//! message, and small helpers (messages, usage bars, sizes, times). Pages carry a strict
//! Content-Security-Policy: no inline script or style, everything from this origin.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use marque_core::policy::{Place, may};
use marque_core::{Action, Actor};
use maud::{DOCTYPE, Markup, html};

use super::ctx::Ctx;

/// `Content-Security-Policy` of every panel page.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The brand a page shows.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    /// Where the logo is served, if there is one.
    pub logo: Option<String>,
    pub support_url: Option<String>,
    /// `#rrggbb` colours, checked.
    pub primary: Option<String>,
    pub accent: Option<String>,
}

impl Brand {
    /// A brand with only a name (when the stored brand cannot be read).
    pub fn named(name: &str) -> Brand {
        Brand {
            name: name.to_string(),
            logo: None,
            support_url: None,
            primary: None,
            accent: None,
        }
    }
}

/// Adds the security headers every panel answer carries.
pub fn secure(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

fn head(title: &str, brand: &Brand) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · " (brand.name) }
            link rel="stylesheet" href="/admin/assets/panel.css";
            link rel="stylesheet" href="/admin/assets/brand.css";
        }
    }
}

fn brand_mark(brand: &Brand) -> Markup {
    html! {
        a.brand href="/admin" {
            @if let Some(logo) = &brand.logo {
                img.logo src=(logo) alt=(format!("{} logo", brand.name));
            }
            span.brand-name { (brand.name) }
        }
    }
}

fn footer(brand: &Brand) -> Markup {
    html! {
        footer {
            @if let Some(url) = &brand.support_url {
                a href=(url) rel="noopener" { "Support" }
            }
        }
    }
}

/// A page without a session, under `brand`.
pub fn bare_branded(title: &str, brand: &Brand, body: Markup) -> Response {
    let m = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, brand))
            body.bare {
                header.top { (brand_mark(brand)) }
                main #main { h1 { (title) } (body) }
                (footer(brand))
            }
        }
    };
    secure(axum::response::Html(m.into_string()).into_response())
}

/// The panel's pages in menu order: `(href, label, action, places)`. The menu offers a page
/// when the permission function lets the principal do `action` in one of `places`: the
/// question the page itself asks of the core.
const PAGES: &[(&str, &str, Action, &[Place])] = &[
    (
        "/admin/customers",
        "Customers",
        Action::TenantRead,
        &[Place::OwnTenant],
    ),
    (
        "/admin/domains",
        "Domains",
        Action::DomainRead,
        &[Place::DomainBelow, Place::AssignedDomains],
    ),
    (
        "/admin/activations",
        "Activations",
        Action::ActivationRead,
        &[Place::OwnActivation],
    ),
    (
        "/admin/credit",
        "Credit",
        Action::CreditRead,
        &[Place::OwnTenant],
    ),
    (
        "/admin/plans",
        "Plans",
        Action::PlanRead,
        &[Place::OwnTenant],
    ),
    (
        "/admin/managers",
        "Managers",
        Action::StaffRead,
        &[Place::OwnTenant],
    ),
    (
        "/admin/usage",
        "Usage",
        Action::UsageRead,
        &[Place::OwnTenant],
    ),
    (
        "/admin/logs/transactions",
        "Transactions",
        Action::LogRead,
        &[Place::OwnTenant, Place::AssignedDomains, Place::OwnDomain],
    ),
    (
        "/admin/logs/auth",
        "Sign-ins",
        Action::LogRead,
        &[
            Place::OwnTenant,
            Place::AssignedDomains,
            Place::OwnDomain,
            Place::OwnMailbox,
        ],
    ),
    (
        "/admin/me/vacation",
        "Vacation",
        Action::MailboxSettings,
        &[Place::OwnMailbox],
    ),
    (
        "/admin/me/forwards",
        "Forwards",
        Action::MailboxSettings,
        &[Place::OwnMailbox],
    ),
    (
        "/admin/me/filters",
        "Filters",
        Action::MailboxSettings,
        &[Place::OwnMailbox],
    ),
    (
        "/admin/password",
        "Password",
        Action::PasswordSet,
        &[Place::OwnRecord],
    ),
];

/// The navigation links for an actor: `(href, label)`. The dashboard comes first; the second
/// sign-in step is offered to administrators and managers, the principals that have one.
pub fn nav_for(actor: &Actor) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![("/admin", "Dashboard")];
    v.extend(
        PAGES
            .iter()
            .filter(|(_, _, action, places)| may(actor, *action, places))
            .map(|(href, label, _, _)| (*href, *label)),
    );
    if actor.principal.staff().is_some() {
        v.push(("/admin/totp", "Two-step sign-in"));
    }
    v
}

/// A full page for a signed-in session.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Response {
    let brand = &ctx.brand;
    let nav = nav_for(ctx.actor());
    let m = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, brand))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    (brand_mark(brand))
                    div.who {
                        span { (ctx.actor().principal.name) }
                        form method="post" action="/admin/logout" {
                            input type="hidden" name="csrf" value=(ctx.session.csrf);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                nav aria-label="Main" {
                    ul {
                        @for (href, label) in &nav {
                            li { a href=(href) { (label) } }
                        }
                    }
                }
                main #main {
                    @if let Some((err, text)) = &ctx.flash {
                        (message(*err, text))
                    }
                    h1 { (title) }
                    (body)
                }
                (footer(brand))
            }
        }
    };
    secure(axum::response::Html(m.into_string()).into_response())
}

/// A message box: an error (announced at once to screen readers) or a confirmation.
pub fn message(error: bool, text: &str) -> Markup {
    html! {
        @if error {
            p.msg.error role="alert" { (text) }
        } @else {
            p.msg.ok role="status" { (text) }
        }
    }
}

/// The hidden CSRF field of a form.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.session.csrf); }
}

/// A usage bar: `used` against `max` (none: no limit), labelled in words. Any `u64` is
/// safe here, also a limit stored before limits were bounded.
pub fn bar(label: &str, used: u64, max: Option<u64>, unit: fn(u64) -> String) -> Markup {
    html! {
        div.bar {
            span.bar-label { (label) ": " (unit(used)) " of " (max.map(unit).unwrap_or_else(|| "no limit".into())) }
            @if let Some(m) = max {
                meter min="0" max=(m.max(1)) value=(used.min(m)) high=(nine_tenths(m.max(1))) aria-label=(label) {}
            }
        }
    }
}

/// ⌊9n/10⌋ without overflow.
fn nine_tenths(n: u64) -> u64 {
    n / 10 * 9 + n % 10 * 9 / 10
}

/// The sum of counters, saturating (a page never panics on what the store holds).
pub fn total<'a>(counts: impl IntoIterator<Item = &'a i64>) -> i64 {
    counts.into_iter().fold(0i64, |a, n| a.saturating_add(*n))
}

/// A count as text.
pub fn count(n: u64) -> String {
    n.to_string()
}

/// Bytes in a readable unit.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn when(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&f).unwrap_or_default()
}

/// Milliseconds since the epoch as the day `YYYY-MM-DD` UTC.
pub fn day(ms: u64) -> String {
    when(ms).chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use marque_core::{
        AccountId, ActivationPolicy, DomainId, PROVIDER, PlanId, Principal, PrincipalId, Role,
        Scope, StaffId, TenantId, Via,
    };

    use super::*;

    #[test]
    fn bars_take_any_number() {
        for n in [0, 1, 9, 10, 1234, u64::MAX] {
            assert_eq!(u128::from(nine_tenths(n)), u128::from(n) * 9 / 10, "{n}");
        }
        let b = bar("Stored", u64::MAX, Some(u64::MAX), bytes).into_string();
        assert!(b.contains("high=\"16602069666338596453\""), "{b}");
        assert_eq!(total(&[i64::MAX, 1]), i64::MAX);
    }

    #[test]
    fn units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(when(0), "1970-01-01 00:00:00");
        assert_eq!(day(86_400_000), "1970-01-02");
    }

    /// An actor of `role` in tenant 3 below the provider, signed in with a password.
    fn actor(id: PrincipalId, role: Role) -> Actor {
        Actor {
            principal: Principal {
                id,
                name: "someone".into(),
                path: vec![PROVIDER, TenantId(3)],
                role,
            },
            source: "127.0.0.1".into(),
            via: Via::Password,
            scope: Scope::default(),
        }
    }

    #[test]
    fn each_role_has_password_and_only_staff_see_customers() {
        let user = actor(
            PrincipalId::Mailbox(AccountId(1)),
            Role::User {
                domain: DomainId(1),
                account: AccountId(1),
            },
        );
        let links = nav_for(&user);
        assert!(links.iter().any(|l| l.0 == "/admin/password"));
        assert!(!links.iter().any(|l| l.0 == "/admin/customers"));
        assert!(
            nav_for(&Actor::operator())
                .iter()
                .any(|l| l.0 == "/admin/customers")
        );
    }

    /// Each role's menu, as the permission function answers it.
    #[test]
    fn menus_follow_the_permission_function() {
        let staff = PrincipalId::Staff(StaffId(7));
        let mailbox = PrincipalId::Mailbox(AccountId(9));
        let cases = [
            (
                actor(staff, Role::Admin),
                &[
                    "Dashboard",
                    "Customers",
                    "Domains",
                    "Activations",
                    "Credit",
                    "Plans",
                    "Managers",
                    "Usage",
                    "Transactions",
                    "Sign-ins",
                    "Password",
                    "Two-step sign-in",
                ][..],
            ),
            (
                actor(
                    staff,
                    Role::ResellerManager {
                        plans: vec![PlanId(2)],
                        policy: ActivationPolicy::Queue,
                    },
                ),
                &[
                    "Dashboard",
                    "Customers",
                    "Domains",
                    "Activations",
                    "Credit",
                    "Plans",
                    "Password",
                    "Two-step sign-in",
                ][..],
            ),
            (
                actor(
                    staff,
                    Role::Helpdesk {
                        domains: vec![DomainId(4)],
                    },
                ),
                &[
                    "Dashboard",
                    "Domains",
                    "Transactions",
                    "Sign-ins",
                    "Password",
                    "Two-step sign-in",
                ][..],
            ),
            (
                actor(staff, Role::Helpdesk { domains: vec![] }),
                &["Dashboard", "Password", "Two-step sign-in"][..],
            ),
            (
                actor(
                    mailbox,
                    Role::Postmaster {
                        domain: DomainId(4),
                        account: AccountId(9),
                    },
                ),
                &[
                    "Dashboard",
                    "Transactions",
                    "Sign-ins",
                    "Vacation",
                    "Forwards",
                    "Filters",
                    "Password",
                ][..],
            ),
            (
                actor(
                    mailbox,
                    Role::User {
                        domain: DomainId(4),
                        account: AccountId(9),
                    },
                ),
                &[
                    "Dashboard",
                    "Sign-ins",
                    "Vacation",
                    "Forwards",
                    "Filters",
                    "Password",
                ][..],
            ),
        ];
        for (who, want) in cases {
            let got: Vec<&str> = nav_for(&who).into_iter().map(|(_, label)| label).collect();
            assert_eq!(got, want, "{:?}", who.principal.role);
        }
    }
}
