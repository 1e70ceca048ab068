//! The DNS check of a domain's records, end to end: a hickory-server zone on loopback holds a
//! domain's records, one of them wrong and one missing; the API (driven with curl) reports
//! each record's state with what was expected and what was found; the zone is fixed and the
//! periodic check turns everything green; another tenant sees nothing; the state goes with the
//! domain.

mod common;

use std::time::Duration;

use common::{Server, start_with_hosting};
use marque_admin::Settings;
use marque_hosting::dns::DnsSettings;
use marque_session::Shutdown;
use marque_tests::dns::{self, RecordType, TestDns, Zone, rr};
use serde_json::{Value, json};

const DOMAIN: &str = "c.example";
const PLATFORM: &str = "mx.platform.test";

async fn setup() -> (TestDns, Server, u64, String, String) {
    let dns = dns::serve([DOMAIN, "platform.test", "other.test"].map(Zone::new)).await;
    dns.add(rr(PLATFORM, "A", "127.0.0.1")).await;
    let settings = DnsSettings {
        platform_host: PLATFORM.into(),
        nameservers: vec![dns.addr],
        timeout: Duration::from_secs(3),
        check_interval: Duration::from_secs(3600),
        ..DnsSettings::default()
    };
    let s = start_with_hosting(Settings::default(), |h| h.with_dns(settings)).await;
    let (a, tok_a) = s.reseller("Reseller A").await;
    let (_, tok_b) = s.reseller("Reseller B").await;
    s.create(
        "/api/v1/domains",
        &tok_a,
        json!({"name": DOMAIN, "tenant": a}),
    )
    .await;
    (dns, s, a, tok_a, tok_b)
}

fn records(v: &Value) -> &Vec<Value> {
    v["records"].as_array().expect("records")
}

/// The one record of `rtype` at `name`.
fn record<'a>(v: &'a Value, rtype: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = records(v)
        .iter()
        .filter(|r| r["type"] == rtype && r["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "{rtype} {name} in {v:#}");
    found[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_and_missing_records_are_reported_then_fixed() {
    let (dns, s, _, tok_a, tok_b) = setup().await;
    let path = format!("/api/v1/domains/{DOMAIN}/dns");

    // Before any check: every record expected, none checked.
    let r = s.get(&path, &tok_a).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let before = r.json();
    assert_eq!(records(&before).len(), 14, "{before:#}");
    assert!(before["checked_ms"].is_null());
    assert_eq!(before["summary"]["status"], "pending");
    assert!(records(&before).iter().all(|r| r["status"] == "pending"));
    assert_eq!(
        record(&before, "CNAME", "mail.c.example")["expected"],
        PLATFORM
    );

    // Publish what is expected, except: the MX points elsewhere (wrong), DMARC is absent
    // (missing), autoconfig has the platform's address instead of a CNAME, autodiscover
    // reaches the platform through a chain of two CNAMEs.
    dns.add(rr(DOMAIN, "TXT", "site-verification=abc123")).await;
    for rec in records(&before) {
        let (t, n, v) = (
            rec["type"].as_str().unwrap(),
            rec["name"].as_str().unwrap(),
            rec["expected"].as_str().unwrap(),
        );
        match (t, n) {
            ("MX", _) => dns.add(rr(n, "MX", "10 mx.other.test")).await,
            ("TXT", "_dmarc.c.example") => {}
            ("CNAME", "autoconfig.c.example") => dns.add(rr(n, "A", "127.0.0.1")).await,
            ("CNAME", "autodiscover.c.example") => {
                dns.add(rr(n, "CNAME", "alias.c.example")).await;
                dns.add(rr("alias.c.example", "CNAME", PLATFORM)).await;
            }
            _ => dns.add(rr(n, t, v)).await,
        }
    }

    let r = s
        .call("POST", &format!("{path}/check"), Some(&tok_a), None, &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let checked = r.json();
    let mx = record(&checked, "MX", DOMAIN);
    assert_eq!(mx["status"], "wrong", "{mx:#}");
    assert_eq!(mx["expected"], "10 mail.c.example");
    assert_eq!(mx["found"], json!(["10 mx.other.test"]));
    assert!(mx["detail"].as_str().unwrap().contains("mail.c.example"));
    let dmarc = record(&checked, "TXT", "_dmarc.c.example");
    assert_eq!(dmarc["status"], "missing", "{dmarc:#}");
    assert_eq!(
        dmarc["expected"],
        "v=DMARC1; p=quarantine; rua=mailto:postmaster@c.example"
    );
    for rec in records(&checked) {
        if rec["type"] != "MX" && rec["name"] != "_dmarc.c.example" {
            assert_eq!(rec["status"], "ok", "{rec:#}");
        }
        assert!(rec["last_check_ms"].is_u64(), "{rec:#}");
    }
    let spf = record(&checked, "TXT", DOMAIN);
    assert_eq!(
        spf["found"],
        json!([format!("v=spf1 mx a:{PLATFORM} -all")])
    );
    assert_eq!(
        record(&checked, "CNAME", "autoconfig.c.example")["found"],
        json!(["A 127.0.0.1"])
    );
    assert_eq!(
        record(&checked, "CNAME", "autodiscover.c.example")["found"],
        json!(["CNAME alias.c.example", "CNAME mx.platform.test"])
    );
    let summary = &checked["summary"];
    assert_eq!(
        (
            &summary["status"],
            &summary["ok"],
            &summary["wrong"],
            &summary["missing"]
        ),
        (&json!("wrong"), &json!(12), &json!(1), &json!(1))
    );
    // The stored state is what a read shows.
    assert_eq!(s.get(&path, &tok_a).await.json(), checked);

    // Checked moments ago: the next check on demand must wait.
    let again = s
        .call("POST", &format!("{path}/check"), Some(&tok_a), None, &[])
        .await;
    let p = again.assert_problem(429);
    let wait: u64 = again
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=10).contains(&wait), "Retry-After {wait}");
    assert_eq!(p["retry_after"], wait);

    // Another reseller sees neither the records nor the check.
    s.get(&path, &tok_b).await.assert_problem(404);
    s.call("POST", &format!("{path}/check"), Some(&tok_b), None, &[])
        .await
        .assert_problem(404);

    // Fix the zone; the periodic check finds everything right (DMARC p=none with a warning).
    dns.remove(DOMAIN, RecordType::MX).await;
    dns.add(rr(DOMAIN, "MX", "10 mail.c.example")).await;
    dns.add(rr("_dmarc.c.example", "TXT", "v=DMARC1; p=none"))
        .await;
    let shutdown = Shutdown::new();
    let task = tokio::spawn(s.hosting.clone().run_dns_checks(None, shutdown.signal()));
    let first = checked["checked_ms"].as_u64().unwrap();
    let mut fixed = Value::Null;
    for _ in 0..300 {
        let now = s.get(&path, &tok_a).await.json();
        if now["checked_ms"].as_u64() != Some(first) {
            fixed = now;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.trigger();
    task.await.expect("the periodic check stops");
    assert_eq!(fixed["summary"]["status"], "ok", "{fixed:#}");
    assert_eq!(fixed["summary"]["warnings"], 1);
    let dmarc = record(&fixed, "TXT", "_dmarc.c.example");
    assert!(dmarc["warning"].as_str().unwrap().contains("p=none"));
    let status = s.hosting.dns_status(DOMAIN).await.expect("status");
    assert!(status.is_ok("mail.c.example"));
    assert!(!status.is_ok("nothing.c.example"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_goes_with_the_domain() {
    let (dns, s, a, tok_a, _) = setup().await;
    dns.add(rr("mail.c.example", "CNAME", PLATFORM)).await;
    let path = format!("/api/v1/domains/{DOMAIN}/dns");
    let r = s
        .call("POST", &format!("{path}/check"), Some(&tok_a), None, &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(record(&v, "CNAME", "mail.c.example")["status"], "ok");
    assert_eq!(record(&v, "MX", DOMAIN)["status"], "missing");
    assert_eq!(
        record(&v, "SRV", "_submissions._tcp.c.example")["expected"],
        "0 1 465 mail.c.example"
    );

    let del = s
        .call(
            "DELETE",
            &format!("/api/v1/domains/{DOMAIN}"),
            Some(&tok_a),
            None,
            &[],
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.body);
    s.get(&path, &tok_a).await.assert_problem(404);
    s.create(
        "/api/v1/domains",
        &tok_a,
        json!({"name": DOMAIN, "tenant": a}),
    )
    .await;
    let fresh = s.get(&path, &tok_a).await.json();
    assert!(fresh["checked_ms"].is_null(), "{fresh:#}");
    assert_eq!(fresh["summary"]["status"], "pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_name_server_is_an_error_not_a_missing_record() {
    // A port nobody answers on: every question times out.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let settings = DnsSettings {
        platform_host: PLATFORM.into(),
        nameservers: vec![silent.local_addr().expect("addr")],
        timeout: Duration::from_millis(300),
        ..DnsSettings::default()
    };
    let s = start_with_hosting(Settings::default(), |h| h.with_dns(settings)).await;
    let (a, tok_a) = s.reseller("Reseller A").await;
    s.create(
        "/api/v1/domains",
        &tok_a,
        json!({"name": DOMAIN, "tenant": a}),
    )
    .await;
    let r = s
        .call(
            "POST",
            &format!("/api/v1/domains/{DOMAIN}/dns/check"),
            Some(&tok_a),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    for rec in records(&v) {
        assert_eq!(rec["status"], "error", "{rec:#}");
        assert!(rec["detail"].is_string());
    }
    assert_eq!(v["summary"]["status"], "error");
}
