//! The web panel at `/admin` with curl (sessions, CSRF, Origin, sign-in logging, cross-tenant
//! scope) and, in `browser`, in headless Chromium driven by `tests/panel/run.mjs`
//! (playwright-core), which writes a screenshot of each page under `target/panel-screenshots/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ADMIN, Server};
use marque_core::{Actor, Features, NewPlan, PROVIDER, TenantId, Tier};
use marque_hosting::{Brand, BrandOf, Colours};
use serde_json::json;

const RESELLER: &str = "acme-admin";
const RESELLER_PW: &str = "acme-admin-password";
const POSTMASTER: &str = "pm@other.test";
const POSTMASTER_PW: &str = "postmaster-password";
const BRAND_HOST: &str = "mail.acme.test";
const BRAND_NAME: &str = "Acme Mail";
/// A 16×16 red PNG, the brand's logo.
const LOGO_PNG: &str = "89504e470d0a1a0a0000000d494844520000001000000010080200000090916836000000164944415478da6338a1a141126218d530aa61f86a00007c331810fa24a3e50000000049454e44ae426082";

/// Two tenants: a reseller with an administrator, and a customer elsewhere in the tree with a
/// domain whose postmaster signs in.
async fn seed(s: &Server) {
    let operator = Actor::operator();
    let plan = s
        .core
        .create_plan(
            &operator,
            NewPlan {
                owner: PROVIDER,
                name: "Branded".into(),
                tier: Tier::Standard,
                default_mailbox_mb: 1024,
                max_mailbox_mb: 20480,
                features: Features {
                    custom_branding: true,
                    tls: true,
                    dedicated_ip: false,
                    api_access: true,
                },
                price_credits: 0,
            },
        )
        .await
        .expect("plan");
    let acme = s
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "Acme Hosting", "kind": "reseller", "plan": plan.id}),
        )
        .await;
    let of = BrandOf::Tenant(TenantId(acme["id"].as_u64().expect("id")));
    let brand = Brand {
        name: BRAND_NAME.into(),
        hostnames: vec![BRAND_HOST.into()],
        colours: Colours {
            primary: "#7a1f5c".into(),
            accent: "#c2410c".into(),
        },
        support_url: Some("https://support.acme.test/".into()),
        logo: None,
    };
    s.hosting
        .set_brand(&operator, of.clone(), brand)
        .await
        .expect("brand");
    let png = hex::decode(LOGO_PNG).expect("hex");
    s.hosting
        .set_brand_logo(&operator, of, "image/png", png)
        .await
        .expect("logo");
    s.create(
        "/api/v1/managers",
        ADMIN,
        json!({"tenant": acme["id"], "login": RESELLER, "password": RESELLER_PW, "kind": "admin"}),
    )
    .await;
    let other = s
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "Other Org", "kind": "customer"}),
        )
        .await;
    s.create(
        "/api/v1/domains",
        ADMIN,
        json!({"name": "other.test", "tenant": other["id"]}),
    )
    .await;
    s.create(
        "/api/v1/mailboxes",
        ADMIN,
        json!({"address": POSTMASTER, "password": POSTMASTER_PW, "quota_mb": 100, "postmaster": true}),
    )
    .await;
}

/// A browser-like client with a cookie jar: curl.
struct Client {
    base: String,
    jar: PathBuf,
    _dir: tempfile::TempDir,
}

/// One answer: status, headers (lower-cased names), body.
struct Page {
    status: u16,
    headers: String,
    body: String,
}

impl Client {
    fn new(s: &Server) -> Client {
        let dir = tempfile::tempdir().expect("temp dir");
        Client {
            base: s.url(""),
            jar: dir.path().join("jar"),
            _dir: dir,
        }
    }

    fn run(&self, method: &str, path: &str, form: Option<&str>, extra: &[&str]) -> Page {
        let head = self.jar.with_extension("head");
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "30", "-X", method, "-D"])
            .arg(&head)
            .arg("-b")
            .arg(&self.jar)
            .arg("-c")
            .arg(&self.jar)
            .args(["-w", "\n%{http_code}"]);
        if let Some(f) = form {
            cmd.args(["--data-raw", f]);
        }
        for h in extra {
            cmd.args(["-H", h]);
        }
        let out = cmd
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("curl must be installed (Debian package curl)");
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').expect("status line");
        Page {
            status: code.trim().parse().expect("status"),
            headers: std::fs::read_to_string(&head)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            body: body.to_string(),
        }
    }

    fn get(&self, path: &str) -> Page {
        self.run("GET", path, None, &[])
    }

    fn post(&self, path: &str, form: &str) -> Page {
        self.run("POST", path, Some(form), &[])
    }

    fn sign_in(&self, login: &str, password: &str) -> Page {
        let form =
            serde_urlencoded::to_string([("login", login), ("password", password)]).expect("form");
        self.post("/admin/login", &form)
    }

    /// The CSRF token of the forms on `path`.
    fn csrf(&self, path: &str) -> String {
        let page = self.get(path);
        let marker = "name=\"csrf\" value=\"";
        let at = page.body.find(marker).expect("a CSRF field") + marker.len();
        page.body[at..]
            .split('"')
            .next()
            .expect("token")
            .to_string()
    }
}

// curl runs synchronously here: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_slow_down_and_a_ban_on_smtp_holds_here() {
    use marque_core::signin::{SignInPolicy, ThrottleConfig};
    use std::time::{Duration, Instant};
    let s = common::start_with_core(marque_admin::Settings::default(), |core| {
        core.with_sign_in_policy(SignInPolicy {
            throttle: ThrottleConfig {
                first_delay: Duration::from_millis(300),
                max_delay: Duration::from_millis(1200),
                account_max_delay: Duration::from_millis(1200),
                ban_after: 4,
                ..ThrottleConfig::default()
            },
            ..SignInPolicy::default()
        })
    })
    .await;
    seed(&s).await;
    let c = Client::new(&s);
    // Each wrong password waits longer than the last: the panel is one door of the throttle
    // every service shares.
    let mut waits = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let r = c.sign_in(RESELLER, "not the password");
        waits.push(started.elapsed());
        assert_eq!(r.status, 401);
    }
    for (wait, least) in waits.iter().zip([300, 600, 1200]) {
        assert!(*wait >= Duration::from_millis(least), "{waits:?}");
    }
    // One more failure from the same address, on SMTP AUTH: the address is now refused here,
    // even with the right password.
    let attempt = marque_core::authlog::Attempt {
        protocol: "smtp",
        login: "someone@acme.test",
        remote: "127.0.0.1",
        mechanism: "PLAIN",
    };
    assert!(s.core.sign_in(attempt, "guess").await.is_err());
    let r = c.sign_in(RESELLER, RESELLER_PW);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.headers.contains("retry-after: "), "{}", r.headers);
    assert!(r.body.contains("Too many failed sign-ins"));
}

// curl runs synchronously here: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_password_of_the_password_form_goes_through_the_throttle() {
    use marque_core::signin::{SignInPolicy, ThrottleConfig};
    use std::time::Duration;
    let s = common::start_with_core(marque_admin::Settings::default(), |core| {
        core.with_sign_in_policy(SignInPolicy {
            throttle: ThrottleConfig {
                first_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(100),
                account_max_delay: Duration::from_millis(100),
                ban_after: 3,
                ..ThrottleConfig::default()
            },
            ..SignInPolicy::default()
        })
    })
    .await;
    seed(&s).await;
    let c = Client::new(&s);
    assert_eq!(c.sign_in(RESELLER, RESELLER_PW).status, 303);
    let change = |current: &str| {
        let token = c.csrf("/admin/password");
        let form = serde_urlencoded::to_string([
            ("csrf", token.as_str()),
            ("current", current),
            ("new", "a new password 1"),
            ("confirm", "a new password 1"),
        ])
        .expect("form");
        c.post("/admin/password", &form);
        c.get("/admin/password").body
    };
    assert!(change("guess 1").contains("the current password is wrong"));
    assert!(change("guess 2").contains("the current password is wrong"));
    // Each guess is in the authentication log (read now: the ban below covers this address's
    // API tokens too).
    let log = s
        .get("/api/v1/logs/auth?address=acme-admin", ADMIN)
        .await
        .json();
    let failures = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["protocol"] == "panel" && r["outcome"] == "failure")
        .count();
    assert_eq!(failures, 2, "{log}");
    assert!(change("guess 3").contains("the current password is wrong"));
    // Three wrong guesses banned the address, as three failed sign-ins would: the right
    // password is refused on this form and on the sign-in form alike.
    assert!(change(RESELLER_PW).contains("too many failed sign-ins"));
    let other = Client::new(&s);
    assert_eq!(other.sign_in(RESELLER, RESELLER_PW).status, 429);
}

// curl runs synchronously here: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sessions_and_logout() {
    let s = common::start().await;
    seed(&s).await;
    let c = Client::new(&s);
    // Without a session, every page leads to the sign-in form.
    let r = c.get("/admin/customers");
    assert_eq!(r.status, 303);
    assert!(r.headers.contains("location: /admin/login"));
    // A wrong password and an unknown name get the same answer.
    let wrong = c.sign_in(RESELLER, "not the password");
    let unknown = c.sign_in("nobody-at-all", "not the password");
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert!(wrong.body.contains("Sign-in failed"));
    assert!(unknown.body.contains("Sign-in failed"));
    // The right one opens a session with a safe cookie.
    let ok = c.sign_in(RESELLER, RESELLER_PW);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.headers.contains("set-cookie: marque_panel="));
    assert!(ok.headers.contains("httponly") && ok.headers.contains("samesite=strict"));
    assert!(ok.headers.contains("path=/admin"));
    let dash = c.get("/admin");
    assert_eq!(dash.status, 200);
    assert!(dash.body.contains("Create account"));
    assert!(
        dash.headers
            .contains("content-security-policy: default-src 'self'")
    );
    // Both sign-ins went to the authentication log with protocol "panel".
    let log = s
        .get("/api/v1/logs/auth?address=acme-admin", ADMIN)
        .await
        .json();
    let items = log["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .any(|r| r["protocol"] == "panel" && r["outcome"] == "success")
    );
    assert!(
        items
            .iter()
            .any(|r| r["protocol"] == "panel" && r["outcome"] == "failure")
    );
    // Sign-out ends the session on the server, not only in the browser.
    let token = c.csrf("/admin");
    let jar = std::fs::read_to_string(&c.jar).expect("jar");
    let out = c.post("/admin/logout", &format!("csrf={token}"));
    assert_eq!(out.status, 303);
    std::fs::write(&c.jar, jar).expect("restore the old cookie");
    assert_eq!(
        c.get("/admin").status,
        303,
        "the old cookie no longer works"
    );
}

// curl runs synchronously here: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_csrf_token_and_this_origin() {
    let s = common::start().await;
    seed(&s).await;
    let c = Client::new(&s);
    assert_eq!(c.sign_in(RESELLER, RESELLER_PW).status, 303);
    let token = c.csrf("/admin/customers/new");
    let r = c.post("/admin/customers", "name=NoToken+Co");
    assert_eq!(r.status, 403, "no token");
    let r = c.post("/admin/customers", "name=BadToken+Co&csrf=0000");
    assert_eq!(r.status, 403, "wrong token");
    let form = format!("name=Elsewhere+Co&csrf={token}");
    let r = c.run(
        "POST",
        "/admin/customers",
        Some(&form),
        &["Origin: https://attacker.example"],
    );
    assert_eq!(r.status, 403, "another site's origin");
    let list = c.get("/admin/customers");
    assert!(
        !list.body.contains("Co</a>"),
        "nothing was created: {}",
        list.body
    );
    let form = format!("name=Good+Co&csrf={token}");
    let origin = format!("Origin: {}", s.url(""));
    let r = c.run("POST", "/admin/customers", Some(&form), &[&origin]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(c.get("/admin/customers").body.contains("Good Co"));
}

// curl runs synchronously here: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postmaster_sees_only_its_domain() {
    let s = common::start().await;
    seed(&s).await;
    let reseller = Client::new(&s);
    assert_eq!(reseller.sign_in(RESELLER, RESELLER_PW).status, 303);
    let token = reseller.csrf("/admin/domains");
    let r = reseller.post("/admin/domains", &format!("name=acme.test&csrf={token}"));
    assert_eq!(r.status, 303);
    let r = reseller.post(
        "/admin/mailboxes",
        &format!("domain=acme.test&local=bob&password=bob-password-1&quota_mb=512&csrf={token}"),
    );
    assert_eq!(r.status, 303);
    assert!(
        reseller
            .get("/admin/domains/acme.test")
            .body
            .contains("bob@acme.test")
    );

    let pm = Client::new(&s);
    assert_eq!(pm.sign_in(POSTMASTER, POSTMASTER_PW).status, 303);
    let home = pm.get("/admin");
    assert_eq!(home.status, 303);
    assert!(home.headers.contains("location: /admin/domains/other.test"));
    let own = pm.get("/admin/domains/other.test");
    assert_eq!(own.status, 200);
    assert!(own.body.contains(POSTMASTER));
    // The domain's DNS records (never checked here: no DNS server in this test) and brand.
    assert!(own.body.contains("DNS records"), "{}", own.body);
    assert!(
        own.body.contains("<td>MX</td><td>other.test</td>"),
        "{}",
        own.body
    );
    assert!(own.body.contains("not checked"), "{}", own.body);
    assert!(own.body.contains("Check DNS now"), "{}", own.body);
    assert_eq!(pm.get("/admin/domains/acme.test").status, 404);
    assert_eq!(pm.get("/admin/mailboxes/bob@acme.test").status, 404);
    assert!(!pm.get("/admin/search?q=acme").body.contains("acme.test"));
    // A form aimed at the other tenant is refused by the core.
    let token = pm.csrf("/admin/domains/other.test");
    let r = pm.post(
        "/admin/mailboxes/bob@acme.test/password",
        &format!("password=taken-over-123&csrf={token}"),
    );
    assert_eq!(r.status, 303);
    let after = pm.get("/admin/domains/other.test");
    assert!(after.body.contains("not found"), "{}", after.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branded_hostname_shows_its_brand() {
    let s = common::start().await;
    seed(&s).await;
    let c = Client::new(&s);
    let host = format!("Host: {BRAND_HOST}:{}", s.addr.port());
    let login = c.run("GET", "/admin/login", None, &[&host]);
    assert_eq!(login.status, 200);
    assert!(login.body.contains(BRAND_NAME));
    assert!(login.body.contains("https://support.acme.test/"));
    let provider = s
        .hosting
        .brand_for_tenant(PROVIDER)
        .await
        .expect("provider brand")
        .brand
        .name;
    assert!(!login.body.contains(&provider), "{}", login.body);
    let at = login.body.find("/admin/brand/logo/").expect("a logo");
    let path: String = login.body[at..].chars().take_while(|c| *c != '"').collect();
    let logo = c.run("GET", &path, None, &[]);
    assert_eq!(logo.status, 200);
    assert!(logo.headers.contains("content-type: image/png"));
    let css = c.run("GET", "/admin/assets/brand.css", None, &[&host]);
    assert!(css.body.contains("--brand: #7a1f5c;"), "{}", css.body);
    // Any other name shows the provider's brand.
    let plain = c.get("/admin/login");
    assert!(!plain.body.contains(BRAND_NAME));
    assert!(plain.body.contains(&provider));
    let css = c.get("/admin/assets/brand.css");
    assert!(!css.body.contains("#7a1f5c"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_second_factor_for_staff() {
    use marque_admin::panel::totp::{code_at, unbase32};
    let s = common::start().await;
    seed(&s).await;
    let now = marque_store::now_secs;
    let c = Client::new(&s);
    assert_eq!(c.sign_in(RESELLER, RESELLER_PW).status, 303);
    let page = c.get("/admin/totp");
    assert!(page.body.contains("otpauth://totp/"), "{}", page.body);
    let marker = "name=\"secret\" value=\"";
    let at = page.body.find(marker).expect("secret field") + marker.len();
    let b32: String = page.body[at..].chars().take_while(|c| *c != '"').collect();
    let secret = unbase32(&b32).expect("base32");
    let token = c.csrf("/admin/totp");
    // A wrong code does not enrol.
    let r = c.post(
        "/admin/totp",
        &format!("secret={b32}&code=000000&csrf={token}"),
    );
    assert_eq!(r.status, 303);
    assert!(
        !c.get("/admin/totp")
            .body
            .contains("A second factor is set up")
    );
    let code = code_at(&secret, now());
    let r = c.post(
        "/admin/totp",
        &format!("secret={b32}&code={code}&csrf={token}"),
    );
    assert_eq!(r.status, 303);
    assert!(
        c.get("/admin/totp")
            .body
            .contains("A second factor is set up")
    );

    // Sign-in now asks for the code; the password alone opens no session.
    let c2 = Client::new(&s);
    let step = c2.sign_in(RESELLER, RESELLER_PW);
    assert_eq!(step.status, 200);
    assert!(!step.headers.contains("set-cookie"));
    let marker = "name=\"pending\" value=\"";
    let at = step.body.find(marker).expect("pending field") + marker.len();
    let pending: String = step.body[at..].chars().take_while(|c| *c != '"').collect();
    let bad = c2.post(
        "/admin/login/code",
        &format!("pending={pending}&code=000000"),
    );
    assert_eq!(bad.status, 401);
    assert_eq!(c2.get("/admin").status, 303, "no session yet");
    let code = code_at(&secret, now());
    let ok = c2.post(
        "/admin/login/code",
        &format!("pending={pending}&code={code}"),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.headers.contains("set-cookie: marque_panel="));
    assert_eq!(c2.get("/admin").status, 200);
    // Both code checks are in the authentication log.
    let log = s
        .get("/api/v1/logs/auth?address=acme-admin", ADMIN)
        .await
        .json();
    let items = log["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .any(|r| r["mechanism"] == "totp" && r["outcome"] == "failure")
    );
    assert!(
        items
            .iter()
            .any(|r| r["mechanism"] == "totp" && r["outcome"] == "success")
    );
}

/// The workspace root (two levels above this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser() {
    let s = common::start().await;
    seed(&s).await;
    let root = root();
    let script = root.join("tests/panel/run.mjs");
    assert!(
        root.join("tests/panel/node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: run `npm ci` in tests/panel (deploy/scripts/setup.sh does)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is missing: install the Debian package chromium"
    );
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let shots = target.join("panel-screenshots");
    let port = s.addr.port().to_string();
    let provider = s
        .hosting
        .brand_for_tenant(PROVIDER)
        .await
        .expect("provider brand")
        .brand
        .name;
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .env("PANEL_URL", s.url(""))
        .env("PANEL_PORT", &port)
        .env("RESELLER_LOGIN", RESELLER)
        .env("RESELLER_PASSWORD", RESELLER_PW)
        .env("POSTMASTER_LOGIN", POSTMASTER)
        .env("POSTMASTER_PASSWORD", POSTMASTER_PW)
        .env("BRAND_HOST", BRAND_HOST)
        .env("BRAND_NAME", BRAND_NAME)
        .env("PROVIDER_NAME", &provider)
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .await
        .expect("node must be installed (Debian package nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all panel checks passed"), "{stdout}");
    assert!(shots.join("02-dashboard.png").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reseller_brands_a_domain_from_its_page() {
    let s = common::start().await;
    seed(&s).await;
    let acme = s.get("/api/v1/tenants", ADMIN).await.json();
    let acme = acme["items"]
        .as_array()
        .expect("tenants")
        .iter()
        .find(|t| t["name"] == "Acme Hosting")
        .expect("the reseller")["id"]
        .clone();
    s.create(
        "/api/v1/domains",
        ADMIN,
        json!({"name": "brandme.test", "tenant": acme}),
    )
    .await;
    let c = Client::new(&s);
    assert_eq!(c.sign_in(RESELLER, RESELLER_PW).status, 303);
    let token = c.csrf("/admin/domains/brandme.test");
    let form = serde_urlencoded::to_string([
        ("name", "Brand Me"),
        ("hostname", "mail.brandme.test"),
        ("primary", "#112233"),
        ("accent", "#445566"),
        ("support_url", ""),
        ("csrf", token.as_str()),
    ])
    .expect("form");
    let r = c.post("/admin/domains/brandme.test/brand", &form);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = c.get("/admin/domains/brandme.test");
    assert!(page.body.contains("Brand saved."), "{}", page.body);
    assert!(
        page.body
            .contains("Users of this domain see <strong>Brand Me</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("mail.brandme.test"), "{}", page.body);
    let effective = s
        .hosting
        .brand_for_domain("brandme.test")
        .await
        .expect("brand");
    assert_eq!(effective.brand.name, "Brand Me");
    assert_eq!(effective.brand.support_url, None);
    // A bad colour is refused with the core's message, and nothing changes.
    let token = c.csrf("/admin/domains/brandme.test");
    let form = serde_urlencoded::to_string([
        ("name", "Other"),
        ("primary", "red"),
        ("accent", "#445566"),
        ("csrf", token.as_str()),
    ])
    .expect("form");
    assert_eq!(
        c.post("/admin/domains/brandme.test/brand", &form).status,
        303
    );
    let page = c.get("/admin/domains/brandme.test");
    assert!(!page.body.contains("Brand saved."), "{}", page.body);
    let effective = s
        .hosting
        .brand_for_domain("brandme.test")
        .await
        .expect("brand");
    assert_eq!(effective.brand.name, "Brand Me");
}
