//! Host names belong to someone, over real HTTP (curl): a reseller tries to take the
//! platform's names and another reseller's, through each path that attaches a name to a
//! tenant (its brand's hostnames, a new domain, a certificate upload, an ACME order), and is
//! refused with a problem that says why; the rightful owners still succeed; and afterwards
//! TLS by SNI serves the same certificates and the panel on those hosts shows the same brands.

mod common;

use common::{ADMIN, Server, start_with_hosting};
use marque_admin::Settings;
use marque_core::PROVIDER;
use marque_session::{CertResolver, ParsedCert};
use serde_json::{Value, json};

/// `[server] hostname`.
const SERVER: &str = "mx.platform.test";
/// A name of the provider's brand.
const PLATFORM_HOST: &str = "mail.platform.test";

fn pem(name: &str) -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec![name.to_string()]).expect("certificate");
    (c.cert.pem(), c.signing_key.serialize_pem())
}

fn brand(name: &str, hosts: &[&str]) -> Value {
    json!({"name": name, "hostnames": hosts,
           "colours": {"primary": "#102030", "accent": "#405060"}, "support_url": null})
}

async fn put(s: &Server, path: &str, token: &str, body: &Value) -> common::Reply {
    s.call("PUT", path, Some(token), Some(&body.to_string()), &[])
        .await
}

/// Asserts the refusal of a name that is not the caller's, and that it says why.
fn refused(r: &common::Reply, host: &str, why: &str) {
    let p = r.assert_problem(409);
    assert_eq!(p["type"], "urn:marque:problem:hostname-not-owned", "{p}");
    assert_eq!(p["hostname"], host, "{p}");
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(why), "{host}: {detail}");
}

/// The leaf certificate TLS serves for `sni`, as `crates/marque`'s reload builds the resolver.
async fn served(s: &Server, default: &ParsedCert, sni: &str) -> Vec<u8> {
    let resolver = CertResolver::new(default.key.clone());
    let certs = s.hosting.all_certificates().await.expect("certificates");
    resolver.replace_certificates(certs.into_iter().filter_map(|c| {
        let parsed = c.parsed()?.ok()?;
        Some((c.hostname, parsed.key))
    }));
    resolver.certificate_for(Some(sni)).cert[0].to_vec()
}

/// The leaf of a chain, as DER.
fn leaf(chain: &str, key: &str) -> Vec<u8> {
    let parsed = ParsedCert::from_pem(chain.as_bytes(), key.as_bytes()).expect("certificate");
    parsed.key.cert[0].to_vec()
}

/// The sign-in page of the panel as a browser asking for `host` sees it.
async fn panel(s: &Server, host: &str) -> String {
    let header = format!("Host: {host}:{}", s.addr.port());
    let r = s.call("GET", "/admin/login", None, None, &[&header]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_takes_the_platforms_or_another_tenants_names() {
    let s = start_with_hosting(Settings::default(), |h| h.with_server_hostname(SERVER)).await;
    let plan = s
        .create(
            "/api/v1/plans",
            ADMIN,
            json!({"name": "Branded", "tier": "STANDARD", "default_mailbox_mb": 100,
                   "max_mailbox_mb": 1000,
                   "features": {"custom_branding": true, "tls": true, "dedicated_ip": false,
                                "api_access": true}}),
        )
        .await["id"]
        .as_u64()
        .expect("plan");
    let (a, tok_a) = s.reseller("Alpha").await;
    let (b, tok_b) = s.reseller("Beta").await;
    for t in [a, b] {
        let r = s
            .patch(
                &format!("/api/v1/tenants/{t}"),
                ADMIN,
                &json!({"plan": plan}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for (t, tok, d) in [(a, &tok_a, "a.test"), (b, &tok_b, "b.test")] {
        s.create("/api/v1/domains", tok, json!({"name": d, "tenant": t}))
            .await;
    }

    // The platform's brand and certificate, Beta's brand and certificate.
    let provider_brand = format!("/api/v1/tenants/{}/brand", PROVIDER.0);
    let r = put(
        &s,
        &provider_brand,
        ADMIN,
        &brand("Platform Mail", &[PLATFORM_HOST]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = put(
        &s,
        "/api/v1/domains/b.test/brand",
        &tok_b,
        &brand("Beta Mail", &["mail.b.test"]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (platform_chain, platform_key) = pem(PLATFORM_HOST);
    let r = put(
        &s,
        &format!("/api/v1/certificates/{PLATFORM_HOST}"),
        ADMIN,
        &json!({"chain_pem": platform_chain, "key_pem": platform_key}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (b_chain, b_key) = pem("mail.b.test");
    let r = put(
        &s,
        "/api/v1/certificates/mail.b.test",
        &tok_b,
        &json!({"chain_pem": b_chain, "key_pem": b_key}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (d_chain, d_key) = pem("default.invalid");
    let default = ParsedCert::from_pem(d_chain.as_bytes(), d_key.as_bytes()).expect("default");
    let before = (
        served(&s, &default, PLATFORM_HOST).await,
        served(&s, &default, "mail.b.test").await,
    );
    assert_eq!(before.0, leaf(&platform_chain, &platform_key));
    assert_eq!(before.1, leaf(&b_chain, &b_key));

    // Each name Alpha may not have, and why.
    let taken = [
        (PLATFORM_HOST, "platform's own host names"),
        (SERVER, "platform's own host names"),
        ("imap.mail.platform.test", "under the platform's host name"),
        ("mail.b.test", "belongs to another tenant"),
        ("imap.b.test", "belongs to another tenant"),
        ("x.sub.b.test", "belongs to another tenant"),
        ("mail.nobody.test", "lies in no domain of tenant"),
    ];
    for (host, why) in taken {
        // Its brand's hostnames.
        let r = put(
            &s,
            "/api/v1/domains/a.test/brand",
            &tok_a,
            &brand("Alpha", &[host]),
        )
        .await;
        refused(&r, host, why);
        // A certificate upload.
        let (chain, key) = pem(host);
        let r = put(
            &s,
            &format!("/api/v1/certificates/{host}"),
            &tok_a,
            &json!({"chain_pem": chain, "key_pem": key}),
        )
        .await;
        refused(&r, host, why);
        // An ACME order.
        let r = s
            .call(
                "POST",
                &format!("/api/v1/certificates/{host}/order"),
                Some(&tok_a),
                None,
                &[],
            )
            .await;
        refused(&r, host, why);
    }
    // Domains at, under or above the platform's names, or in another tenant's domain.
    for (name, why) in [
        (PLATFORM_HOST, "platform's own host names"),
        ("x.mail.platform.test", "under the platform's host name"),
        ("platform.test", "contains the platform's host name"),
        ("sub.b.test", "belongs to another tenant"),
        ("mail.b.test", "belongs to another tenant"),
    ] {
        let r = s
            .post(
                "/api/v1/domains",
                &tok_a,
                &json!({"name": name, "tenant": a}),
            )
            .await;
        refused(&r, name, why);
    }

    // What is Alpha's stays Alpha's to use; Beta keeps its own names.
    let r = put(
        &s,
        "/api/v1/domains/a.test/brand",
        &tok_a,
        &brand("Alpha Mail", &["mail.a.test"]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    s.create(
        "/api/v1/domains",
        &tok_a,
        json!({"name": "sub.a.test", "tenant": a}),
    )
    .await;
    let (chain, key) = pem("mail.sub.a.test");
    let r = put(
        &s,
        "/api/v1/certificates/mail.sub.a.test",
        &tok_a,
        &json!({"chain_pem": chain, "key_pem": key}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .call(
            "POST",
            "/api/v1/certificates/imap.a.test/order",
            Some(&tok_a),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let r = put(
        &s,
        "/api/v1/domains/b.test/brand",
        &tok_b,
        &brand("Beta Mail", &["mail.b.test", "imap.b.test"]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .call(
            "POST",
            "/api/v1/certificates/imap.b.test/order",
            Some(&tok_b),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    s.create(
        "/api/v1/domains",
        &tok_b,
        json!({"name": "sub.b.test", "tenant": b}),
    )
    .await;
    // The provider's staff act for the platform: they may still add its names.
    s.create(
        "/api/v1/domains",
        ADMIN,
        json!({"name": "platform.test", "tenant": PROVIDER.0}),
    )
    .await;

    // TLS by SNI and the panel on those names are what they were.
    assert_eq!(served(&s, &default, PLATFORM_HOST).await, before.0);
    assert_eq!(served(&s, &default, "mail.b.test").await, before.1);
    let on_platform = panel(&s, PLATFORM_HOST).await;
    assert!(on_platform.contains("Platform Mail"), "{on_platform}");
    assert!(!on_platform.contains("Alpha"), "{on_platform}");
    let on_b = panel(&s, "mail.b.test").await;
    assert!(on_b.contains("Beta Mail"), "{on_b}");
    assert!(!on_b.contains("Alpha"), "{on_b}");
    let on_a = panel(&s, "mail.a.test").await;
    assert!(on_a.contains("Alpha Mail"), "{on_a}");
    let owners = s.hosting.branded_hostnames().await.expect("names");
    let owner = |h: &str| owners.iter().find(|(n, _)| n == h).map(|(_, t)| t.0);
    assert_eq!(owner(PLATFORM_HOST), Some(PROVIDER.0));
    assert_eq!(owner("mail.b.test"), Some(b));
    assert_eq!(owner("mail.a.test"), Some(a));
}
