//! The whole white-label flow through the real binary, with everything on loopback: a
//! reseller is branded and overrides its brand for a customer's domain; a DNS server serves
//! the domain's MX and the CNAME of `mail.customer.test` to the platform's host; the domain's
//! DNS check turns that CNAME green, which lets the ACME side order the certificate from
//! Debian's pebble (never before); an IMAPS client asking for `mail.customer.test` by SNI
//! gets that certificate, verified against pebble's root for that name, and a greeting that
//! names it; the Thunderbird autoconfig document of the domain names `mail.customer.test`;
//! and an SMTP client on submissions sees the name in the banner. The platform's own name and
//! the reseller's appear in none of the customer's answers.

mod certs_common;
mod common;

use std::process::Command;
use std::time::Duration;

use certs_common::pebble::{free_port, pebble_api_certificate, pebble_root, run_pebble};
use certs_common::{call, connect, leaf_sha256, try_connect};
use common::{MARQUE, Server, write_config};
use marque_tests::dns::{self, Zone, rr};
use serde_json::{Value, json};

/// The platform's own host: the `[server] hostname` every branded CNAME points to.
const PLATFORM: &str = "mx.platform.test";
const CUSTOMER_HOST: &str = "mail.customer.test";
const RESELLER_HOST: &str = "mail.reseller.test";

/// A call that must answer 2xx; its JSON answer.
fn ok(http: std::net::SocketAddr, token: &str, method: &str, path: &str, body: Value) -> Value {
    let body = (!body.is_null()).then_some(body);
    let (status, answer) = call(http, token, method, path, body.as_ref());
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

fn brand(name: &str, host: &str) -> Value {
    json!({"name": name, "hostnames": [host],
           "colours": {"primary": "#123456", "accent": "#abcdef"},
           "support_url": null})
}

/// The certificate record of `host`, once it has one (or the failure, which ends the test).
fn wait_for_certificate(
    server: &Server,
    token: &str,
    host: &str,
    pebble: &certs_common::pebble::Pebble,
) -> Value {
    let http = server.addr("http");
    for _ in 0..600 {
        let (status, body) = call(http, token, "GET", &format!("/certificates/{host}"), None);
        if status == 200 && body["issued"] == true {
            return body;
        }
        if let Some(e) = body["last_error"].as_str() {
            panic!(
                "the order of {host} failed: {e}\nmarque:\n{}\npebble:\n{}",
                server.log(),
                std::fs::read_to_string(&pebble.log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("no certificate for {host}; marque:\n{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branded_domain_gets_its_name_its_certificate_and_its_client_configuration() {
    // One zone holds the platform's host, the reseller's name, and the customer's domain with
    // its MX but, at first, no CNAME for its mail host. (One zone, so that the server answers
    // a CNAME together with its target's address, as a recursive resolver would.)
    let dns = dns::serve(["test"].map(Zone::new)).await;
    dns.add(rr(PLATFORM, "A", "127.0.0.1")).await;
    dns.add(rr(RESELLER_HOST, "CNAME", PLATFORM)).await;
    dns.add(rr("customer.test", "MX", &format!("10 {CUSTOMER_HOST}")))
        .await;

    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = pebble_api_certificate();
    let api_ca = dir.path().join("pebble-api-ca.pem");
    std::fs::write(&api_ca, ca).unwrap();
    std::fs::write(dir.path().join("pebble-cert.pem"), cert).unwrap();
    std::fs::write(dir.path().join("pebble-key.pem"), key).unwrap();
    let api_port = free_port();
    let config = write_config(dir.path(), &["http", "imaps", "submissions"]);
    let text = std::fs::read_to_string(&config).unwrap();
    // This test's DNS server and the platform's name replace the defaults of the fixture.
    let mut text: String = text
        .replace(
            "hostname = \"localhost\"",
            &format!("hostname = \"{PLATFORM}\""),
        )
        .lines()
        .map(|l| {
            if l.starts_with("nameservers = ") {
                format!("nameservers = [\"{}\"]\n", dns.addr)
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    text.push_str(&format!(
        "\n[acme]\nenabled = true\ndirectory = \"https://127.0.0.1:{api_port}/dir\"\n\
         contact = \"mailto:ops@platform.test\"\nca_file = \"{}\"\nchallenge = \"http-01\"\n",
        api_ca.display()
    ));
    std::fs::write(&config, text).unwrap();
    let server = MARQUE.serve(&config, &[], &[]);
    let (pebble, mgmt) = run_pebble(
        dir.path(),
        dns.addr,
        api_port,
        server.addr("http").port(),
        server.addr("imaps").port(),
    );
    let admin = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let admin = admin.trim();
    let http = server.addr("http");

    // A plan with custom branding and custom TLS; a reseller on it, with its own token; a
    // customer of the reseller with the domain.
    let plan = ok(
        http,
        admin,
        "POST",
        "/plans",
        json!({"name": "Branded", "tier": "STANDARD", "default_mailbox_mb": 100,
               "max_mailbox_mb": 1000,
               "features": {"custom_branding": true, "tls": true, "dedicated_ip": false,
                            "api_access": true}}),
    )["id"]
        .as_u64()
        .unwrap();
    let reseller = ok(
        http,
        admin,
        "POST",
        "/tenants",
        json!({"name": "Reseller", "kind": "reseller", "plan": plan}),
    )["id"]
        .as_u64()
        .unwrap();
    let rtok = ok(
        http,
        admin,
        "POST",
        "/tokens",
        json!({"name": "reseller api", "tenant": reseller}),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    let customer = ok(
        http,
        &rtok,
        "POST",
        "/tenants",
        json!({"name": "Customer", "kind": "customer", "plan": plan}),
    )["id"]
        .as_u64()
        .unwrap();
    ok(
        http,
        &rtok,
        "POST",
        "/domains",
        json!({"name": "customer.test", "tenant": customer}),
    );

    // The reseller's brand, overridden for the customer's domain.
    ok(
        http,
        admin,
        "PUT",
        &format!("/tenants/{reseller}/brand"),
        brand("Reseller Mail", RESELLER_HOST),
    );
    ok(
        http,
        &rtok,
        "PUT",
        "/domains/customer.test/brand",
        brand("Customer Mail", CUSTOMER_HOST),
    );
    let effective = ok(
        http,
        &rtok,
        "GET",
        "/domains/customer.test/brand/effective",
        Value::Null,
    );
    assert_eq!(effective["brand"]["name"], "Customer Mail", "{effective}");

    // Before DNS points the name here, the check says so and no certificate is ordered.
    let checked = ok(
        http,
        &rtok,
        "POST",
        "/domains/customer.test/dns/check",
        Value::Null,
    );
    let cname = |status: &Value| -> Value {
        status["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "CNAME" && r["name"] == CUSTOMER_HOST)
            .cloned()
            .unwrap_or_else(|| panic!("no CNAME record for {CUSTOMER_HOST}: {status}"))
    };
    assert_eq!(cname(&checked)["status"], "missing", "{checked}");
    assert_eq!(cname(&checked)["expected"], PLATFORM, "{checked}");
    let mx = checked["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "MX")
        .cloned()
        .unwrap();
    assert_eq!(mx["status"], "ok", "{checked}");
    std::thread::sleep(Duration::from_secs(2));
    let (status, body) = call(
        http,
        admin,
        "GET",
        &format!("/certificates/{CUSTOMER_HOST}"),
        None,
    );
    assert_ne!(body["issued"], true, "{status} {body}");

    // The CNAME appears; the next check turns it green, and the certificate follows.
    dns.add(rr(CUSTOMER_HOST, "CNAME", PLATFORM)).await;
    std::thread::sleep(Duration::from_secs(11)); // the on-demand check's rate limit
    let checked = ok(
        http,
        &rtok,
        "POST",
        "/domains/customer.test/dns/check",
        Value::Null,
    );
    assert_eq!(cname(&checked)["status"], "ok", "{checked}");
    let issued = wait_for_certificate(&server, admin, CUSTOMER_HOST, &pebble);
    assert_eq!(issued["source"], "acme");
    let chain = issued["chain_pem"].as_str().unwrap().to_string();

    // IMAPS with SNI mail.customer.test: pebble's chain, valid for that name, and the name in
    // the greeting. The platform's name is not in it.
    let root = dir.path().join("pebble-root.pem");
    pebble_root(mgmt, &api_ca, &root);
    let mut seen = None;
    for _ in 0..100 {
        if let Ok(s) = try_connect(server.addr("imaps"), CUSTOMER_HOST, Some(&root), "imap") {
            seen = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen = seen.expect("a verified TLS connection for mail.customer.test");
    assert_eq!(seen.leaf, leaf_sha256(&chain));
    assert!(
        seen.greeting.contains(CUSTOMER_HOST) && !seen.greeting.contains(PLATFORM),
        "{}",
        seen.greeting
    );
    // openssl agrees: the chain verifies against pebble's root for that host name.
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &server.addr("imaps").to_string()])
        .args([
            "-servername",
            CUSTOMER_HOST,
            "-verify_hostname",
            CUSTOMER_HOST,
        ])
        .args([
            "-CAfile",
            &root.display().to_string(),
            "-verify_return_error",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Verify return code: 0 (ok)"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Thunderbird's autoconfig for an address of the domain names the branded host only.
    let url = format!("http://{http}/mail/config-v1.1.xml?emailaddress=ann@customer.test");
    let out = Command::new("curl")
        .args(["-sS", "--fail", &url])
        .output()
        .expect("curl must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains(&format!("<hostname>{CUSTOMER_HOST}</hostname>")),
        "{xml}"
    );
    assert!(xml.contains("Customer Mail"), "{xml}");
    assert!(
        !xml.contains(PLATFORM) && !xml.contains(RESELLER_HOST) && !xml.contains("Reseller Mail"),
        "{xml}"
    );

    // SMTP on submissions with the same name: the banner names it.
    let smtp = connect(
        server.addr("submissions"),
        CUSTOMER_HOST,
        Some(&root),
        "smtp",
    );
    assert!(
        smtp.greeting.starts_with(&format!("220 {CUSTOMER_HOST} ")),
        "{}",
        smtp.greeting
    );
    assert!(!smtp.greeting.contains(PLATFORM), "{}", smtp.greeting);

    // The reseller's own hostname (no hosted domain expects records for it) got its
    // certificate in the same pass.
    let reseller_cert = wait_for_certificate(&server, admin, RESELLER_HOST, &pebble);
    assert_eq!(reseller_cert["source"], "acme");
    drop(pebble);
}
