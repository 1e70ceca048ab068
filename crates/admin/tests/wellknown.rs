//! Client configuration and MTA-STS over HTTP (curl), each answer parsed by a real parser
//! (python3's xml.etree and plistlib): the hostnames are the domain's brand's, the ports the
//! public ones, an unknown domain answers 404, and a domain under another tenant never shows
//! this brand.

mod common;

use common::{Server, start};
use marque_core::{Actor, Features, NewDomain, NewPlan, NewTenant};
use marque_core::{PROVIDER, TenantChanges, TenantKind, Tier};
use marque_hosting::{Brand, BrandOf, Colours};
use serde_json::Value;

/// Runs python3 on `input` with `script`; its stdout is JSON.
async fn python(script: &str, input: &str) -> Value {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 must be installed (Debian package python3)");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).await.expect("write");
    drop(stdin);
    let out = child.wait_with_output().await.expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 failed: {}\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

const THUNDERBIRD: &str = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
p = root.find('emailProvider')
servers = [{'kind': s.tag, 'type': s.get('type'), 'host': s.findtext('hostname'),
            'port': int(s.findtext('port')), 'socket': s.findtext('socketType'),
            'user': s.findtext('username')}
           for s in list(p) if s.tag in ('incomingServer', 'outgoingServer')]
print(json.dumps({'version': root.get('version'), 'name': p.findtext('displayName'),
                  'domain': p.findtext('domain'), 'servers': servers}))
"#;

const OUTLOOK: &str = r#"
import json, sys, xml.etree.ElementTree as ET
ns = {'r': 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'}
root = ET.fromstring(sys.stdin.read())
resp = root.find('r:Response', ns)
protos = [{'type': p.findtext('r:Type', namespaces=ns), 'host': p.findtext('r:Server', namespaces=ns),
           'port': int(p.findtext('r:Port', namespaces=ns)), 'ssl': p.findtext('r:SSL', namespaces=ns),
           'login': p.findtext('r:LoginName', namespaces=ns)}
          for p in resp.findall('r:Account/r:Protocol', ns)]
print(json.dumps({'name': resp.findtext('r:User/r:DisplayName', namespaces=ns), 'protocols': protos}))
"#;

const APPLE: &str = r#"
import json, sys, plistlib
p = plistlib.loads(sys.stdin.buffer.read())
a = p['PayloadContent'][0]
print(json.dumps({'type': p['PayloadType'], 'org': p['PayloadOrganization'], 'ptype': a['PayloadType'],
                  'in': [a['IncomingMailServerHostName'], a['IncomingMailServerPortNumber']],
                  'out': [a['OutgoingMailServerHostName'], a['OutgoingMailServerPortNumber']],
                  'user': a['IncomingMailServerUsername'], 'ssl': a['IncomingMailServerUseSSL']}))
"#;

/// A reseller on a plan with branding and TLS, its brand, and its domain `c.example`; the
/// provider's `p.example` has no brand.
async fn world() -> Server {
    let s = start().await;
    let op = Actor::operator();
    let plan = s
        .core
        .create_plan(
            &op,
            NewPlan {
                owner: PROVIDER,
                name: "Full".into(),
                tier: Tier::Standard,
                default_mailbox_mb: 100,
                max_mailbox_mb: 1000,
                features: Features {
                    custom_branding: true,
                    tls: true,
                    ..Features::default()
                },
                price_credits: 0,
            },
        )
        .await
        .unwrap();
    let r = s
        .core
        .create_tenant(
            &op,
            NewTenant {
                name: "R".into(),
                kind: TenantKind::Reseller,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    s.core
        .update_tenant(
            &op,
            r,
            TenantChanges {
                plan: Some(Some(plan.id)),
                ..TenantChanges::default()
            },
        )
        .await
        .unwrap();
    for (name, tenant) in [("c.example", r), ("p.example", PROVIDER)] {
        s.core
            .create_domain(
                &op,
                NewDomain {
                    name: name.into(),
                    tenant,
                    ..NewDomain::default()
                },
            )
            .await
            .unwrap();
    }
    s.hosting
        .set_brand(
            &op,
            BrandOf::Tenant(r),
            Brand {
                name: "Resold & Co".into(),
                hostnames: vec!["mail.resold.example".into()],
                colours: Colours::default(),
                support_url: None,
                logo: None,
            },
        )
        .await
        .unwrap();
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn thunderbird_autoconfig_names_the_branded_host() {
    let s = world().await;
    for path in [
        "/mail/config-v1.1.xml?emailaddress=ann%40c.example",
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann%40c.example",
    ] {
        let r = s.call("GET", path, None, None, &[]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.header("content-type").unwrap().contains("xml"));
        let v = python(THUNDERBIRD, &r.body).await;
        assert_eq!(v["version"], "1.1");
        assert_eq!(v["name"], "Resold & Co");
        assert_eq!(v["domain"], "c.example");
        let got: Vec<(String, String, u64, String)> = v["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                assert_eq!(x["host"], "mail.resold.example");
                assert_eq!(x["user"], "%EMAILADDRESS%");
                (
                    x["kind"].as_str().unwrap().into(),
                    x["type"].as_str().unwrap().into(),
                    x["port"].as_u64().unwrap(),
                    x["socket"].as_str().unwrap().into(),
                )
            })
            .collect();
        let want = [
            ("incomingServer", "imap", 993, "SSL"),
            ("incomingServer", "pop3", 995, "SSL"),
            ("outgoingServer", "smtp", 465, "SSL"),
            ("outgoingServer", "smtp", 587, "STARTTLS"),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2, g.3.as_str()), w);
        }
    }
    // By host alone (autoconfig.<domain>), as Thunderbird asks before it knows the address.
    let r = s
        .call(
            "GET",
            "/mail/config-v1.1.xml",
            None,
            None,
            &["Host: autoconfig.c.example"],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Another tenant's domain shows the platform's brand, not this one.
    let r = s
        .call(
            "GET",
            "/mail/config-v1.1.xml?emailaddress=bob%40p.example",
            None,
            None,
            &[],
        )
        .await;
    let v = python(THUNDERBIRD, &r.body).await;
    assert_ne!(v["name"], "Resold & Co");
    assert!(!r.body.contains("resold"), "{}", r.body);
    let r = s
        .call(
            "GET",
            "/mail/config-v1.1.xml?emailaddress=x%40unknown.example",
            None,
            None,
            &[],
        )
        .await;
    r.assert_problem(404);
}

#[tokio::test(flavor = "multi_thread")]
async fn outlook_autodiscover_answers_the_outlook_schema() {
    let s = world().await;
    let req = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>ann@c.example</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;
    for path in [
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
    ] {
        let r = s
            .call("POST", path, None, Some(req), &["Content-Type: text/xml"])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = python(OUTLOOK, &r.body).await;
        assert_eq!(v["name"], "Resold & Co");
        let protos = v["protocols"].as_array().unwrap();
        assert_eq!(protos.len(), 2);
        assert_eq!(protos[0]["type"], "IMAP");
        assert_eq!(protos[0]["port"], 993);
        assert_eq!(protos[1]["type"], "SMTP");
        assert_eq!(protos[1]["port"], 465);
        for p in protos {
            assert_eq!(p["host"], "mail.resold.example");
            assert_eq!(p["login"], "ann@c.example");
            assert_eq!(p["ssl"], "on");
        }
    }
    let unknown = req.replace("ann@c.example", "ann@unknown.example");
    s.call(
        "POST",
        "/autodiscover/autodiscover.xml",
        None,
        Some(&unknown),
        &["Content-Type: text/xml"],
    )
    .await
    .assert_problem(404);
    s.call(
        "POST",
        "/autodiscover/autodiscover.xml",
        None,
        Some("<Autodiscover/>"),
        &["Content-Type: text/xml"],
    )
    .await
    .assert_problem(400);
}

#[tokio::test(flavor = "multi_thread")]
async fn apple_profile_and_mta_sts_policy() {
    let s = world().await;
    let r = s
        .call(
            "GET",
            "/apple/mobileconfig?email=ann%40c.example",
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-apple-aspen-config")
    );
    let v = python(APPLE, &r.body).await;
    assert_eq!(v["type"], "Configuration");
    assert_eq!(v["ptype"], "com.apple.mail.managed");
    assert_eq!(v["org"], "Resold & Co");
    assert_eq!(v["in"], serde_json::json!(["mail.resold.example", 993]));
    assert_eq!(v["out"], serde_json::json!(["mail.resold.example", 465]));
    assert_eq!(v["user"], "ann@c.example");
    assert_eq!(v["ssl"], true);
    s.call(
        "GET",
        "/apple/mobileconfig?email=x%40unknown.example",
        None,
        None,
        &[],
    )
    .await
    .assert_problem(404);
    s.call(
        "GET",
        "/apple/mobileconfig?email=not-an-address",
        None,
        None,
        &[],
    )
    .await
    .assert_problem(422);

    let r = s
        .call(
            "GET",
            "/.well-known/mta-sts.txt",
            None,
            None,
            &["Host: mta-sts.c.example"],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let lines: Vec<&str> = r.body.split("\r\n").collect();
    assert_eq!(
        lines,
        [
            "version: STSv1",
            "mode: testing",
            "mx: mail.resold.example",
            "max_age: 604800",
            ""
        ]
    );
    s.call(
        "GET",
        "/.well-known/mta-sts.txt",
        None,
        None,
        &["Host: mta-sts.unknown.example"],
    )
    .await
    .assert_problem(404);
    s.call("GET", "/.well-known/mta-sts.txt", None, None, &[])
        .await
        .assert_problem(404);
}
