//! Message authentication against dkimpy (Debian `python3-dkim`) and a loopback DNS server:
//! we verify dkimpy's signatures, dkimpy verifies ours; SPF by the connecting 127.0.0.x
//! address; DMARC `p=reject` and `p=quarantine`; hourly limits of submission users.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::dns::{self, Zone};
use common::{PASSWORD, inbox, start, start_with, test_config, transactions};
use marque_delivery::Outcome;

/// Debian's interpreter: dkimpy is installed for it (`python3-dkim`), whatever `python3` the
/// PATH finds first.
const PYTHON: &str = "/usr/bin/python3";

const PRELUDE: &str = r#"
import smtplib, ssl, sys, json, base64, dkim
PORT = int(sys.argv[1])
ARG = json.loads(sys.argv[2])
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
def expect(r, code, enh=None):
    c, text = r
    text = text.decode() if isinstance(text, bytes) else text
    assert c == code, f"expected {code}, got {c} {text}"
    if enh is not None:
        assert text.startswith(enh), f"expected {enh}, got {c} {text}"
def mx(source="127.0.0.1"):
    c = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.sender.example",
                     source_address=(source, 0))
    return c
"#;

/// Runs a script under Debian's python3 with dkimpy; panics with its output if it fails.
async fn dkimpy(port: u16, arg: serde_json::Value, script: &str) -> String {
    let out = tokio::process::Command::new(PYTHON)
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .arg(port.to_string())
        .arg(arg.to_string())
        .output()
        .await
        .expect("/usr/bin/python3 with dkimpy (Debian python3-dkim) must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "python failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A key pair for the sending side: PKCS#8 PEM of the RSA key, the Ed25519 seed (what dkimpy
/// takes), and the TXT values to publish.
struct SenderKeys {
    rsa_pem: String,
    ed_seed: String,
    rsa_txt: String,
    ed_txt: String,
}

fn sender_keys() -> SenderKeys {
    let keys = marque_hosting::dkim::generate(0).expect("generate");
    let set = marque_hosting::dkim::DkimKeySet {
        domain: "sender.example".into(),
        keys: keys.clone(),
    };
    let records = set.records();
    let ed = keys[1].private_pkcs8();
    // PKCS#8 v2 for Ed25519 (RFC 8410 §7): the 32-byte seed follows `04 20` at offset 14.
    assert_eq!(&ed[14..16], &[0x04, 0x20]);
    SenderKeys {
        rsa_pem: format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            B64.encode(keys[0].private_pkcs8())
        ),
        ed_seed: B64.encode(&ed[16..48]),
        rsa_txt: records[0].txt_value.clone(),
        ed_txt: records[1].txt_value.clone(),
    }
}

/// `sender.example` may send from 127.0.0.2 only; DMARC policy `p`.
fn sender_zone(domain: &str, keys: &SenderKeys, policy: &str) -> Zone {
    Zone::new(domain)
        .txt(domain, "v=spf1 ip4:127.0.0.2 -all")
        .txt(&format!("rsa._domainkey.{domain}"), &keys.rsa_txt)
        .txt(&format!("ed._domainkey.{domain}"), &keys.ed_txt)
        .txt(
            &format!("_dmarc.{domain}"),
            &format!("v=DMARC1; p={policy}"),
        )
}

fn header_block(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.split("\r\n\r\n").next().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkimpy_signatures_verify_and_spf_follows_the_client_address() {
    let keys = sender_keys();
    let zone = dns::serve(vec![sender_zone("sender.example", &keys, "none")]).await;
    let mut config = test_config();
    config.nameservers = vec![zone.addr];
    let s = start_with(config).await;
    let arg = serde_json::json!({"rsa": keys.rsa_pem, "ed": keys.ed_seed});
    dkimpy(
        s.smtp.port(),
        arg,
        r#"
msg = (b"From: Sender <x@sender.example>\r\nTo: bob@c.example\r\nSubject: signed\r\n"
       b"Message-ID: <signed1@sender.example>\r\n\r\nHello, signed world.\r\n")
sig_rsa = dkim.sign(msg, b"rsa", b"sender.example", ARG["rsa"].encode(),
                    include_headers=[b"from", b"to", b"subject"])
sig_ed = dkim.sign(msg, b"ed", b"sender.example", ARG["ed"].encode(),
                   include_headers=[b"from", b"to", b"subject"],
                   signature_algorithm=b"ed25519-sha256")
signed = sig_rsa + sig_ed + msg
# From the address the SPF record names: spf=pass, both signatures pass.
c = mx("127.0.0.2")
expect(c.ehlo("client.sender.example"), 250)
expect(c.mail("x@sender.example"), 250)
expect(c.rcpt("bob@c.example"), 250)
expect(c.data(signed), 250)
c.quit()
# Another address, and the body changed after signing: spf=fail, dkim=fail.
# A forged result in our name comes along; it must not survive.
tampered = (b"Authentication-Results: mx.test.example; dkim=pass spf=pass dmarc=pass\r\n"
            + signed.replace(b"Hello, signed world.", b"Hello, changed world."))
c = mx("127.0.0.1")
expect(c.ehlo("client.sender.example"), 250)
expect(c.mail("x@sender.example"), 250)
expect(c.rcpt("bob@c.example"), 250)
expect(c.data(tampered), 250)
c.quit()
"#,
    )
    .await;
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 2);
    let good = header_block(&bob[0].1);
    assert!(
        good.contains("Authentication-Results: mx.test.example;"),
        "{good}"
    );
    assert!(good.contains("dkim=pass"), "{good}");
    assert!(good.contains("header.s=rsa"), "{good}");
    assert!(good.contains("header.s=ed"), "{good}");
    assert!(good.contains("spf=pass"), "{good}");
    assert!(good.contains("dmarc=pass"), "{good}");
    assert!(!good.contains("dkim=fail"), "{good}");
    // Our trace header stays first.
    assert!(good.starts_with("Return-Path: <x@sender.example>\r\nReceived: from"));
    let bad = header_block(&bob[1].1);
    assert!(bad.contains("dkim=fail"), "{bad}");
    assert!(!bad.contains("dkim=pass"), "{bad}");
    assert!(bad.contains("spf=fail"), "{bad}");
    assert!(bad.contains("dmarc=fail"), "{bad}");
    assert_eq!(
        bad.matches("Authentication-Results: mx.test.example")
            .count(),
        1,
        "{bad}"
    );

    let records = transactions(&s.core, s.customer, "x@sender.example");
    assert_eq!(records.len(), 2);
    // Newest first.
    let bad = records[0].auth.clone().expect("auth results");
    let good = records[1].auth.clone().expect("auth results");
    assert_eq!(
        (good.spf.as_str(), good.dkim.as_str(), good.dmarc.as_str()),
        ("pass", "pass", "pass")
    );
    assert_eq!(good.header_from, "sender.example");
    assert_eq!(
        (bad.spf.as_str(), bad.dkim.as_str(), bad.dmarc.as_str()),
        ("fail", "fail", "fail")
    );
    assert_eq!(records[0].recipients[0].outcome, Outcome::Delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dmarc_reject_is_refused_and_quarantine_is_delivered_as_junk() {
    let keys = sender_keys();
    let zone = dns::serve(vec![
        sender_zone("strict.example", &keys, "reject"),
        sender_zone("careful.example", &keys, "quarantine"),
    ])
    .await;
    let mut config = test_config();
    config.nameservers = vec![zone.addr];
    let s = start_with(config).await;
    dkimpy(
        s.smtp.port(),
        serde_json::json!({}),
        r#"
def send(sender, expect_code):
    c = mx("127.0.0.1")
    expect(c.ehlo("client.sender.example"), 250)
    expect(c.mail(sender), 250)
    expect(c.rcpt("bob@c.example"), 250)
    msg = f"From: <{sender}>\r\nTo: bob@c.example\r\nSubject: forged\r\n\r\nPay now.\r\n"
    code, text = c.data(msg)
    assert code == expect_code, (code, text)
    c.quit()
    return text.decode()
text = send("ceo@strict.example", 550)
assert text.startswith("5.7.1") and "strict.example" in text, text
send("ceo@careful.example", 250)
"#,
    )
    .await;
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1, "the p=reject message must not be stored");
    let head = header_block(&bob[0].1);
    assert!(head.contains("dmarc=fail"), "{head}");
    assert!(head.contains("policy.dmarc=quarantine"), "{head}");
    assert!(
        head.contains("X-Marque-Junk: DMARC policy quarantine (careful.example)"),
        "{head}"
    );

    let refused = transactions(&s.core, s.customer, "ceo@strict.example");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].recipients[0].outcome, Outcome::Rejected);
    assert_eq!(refused[0].recipients[0].reason, "DMARC policy reject");
    assert_eq!(refused[0].auth.as_ref().expect("auth").dmarc, "fail");
    let junk = transactions(&s.core, s.customer, "ceo@careful.example");
    assert_eq!(junk[0].recipients[0].outcome, Outcome::Junk);
    assert!(junk[0].auth.as_ref().expect("auth").junk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dmarc_reject_can_be_turned_off() {
    let keys = sender_keys();
    let zone = dns::serve(vec![sender_zone("strict.example", &keys, "reject")]).await;
    let mut config = test_config();
    config.nameservers = vec![zone.addr];
    config.dmarc_reject = false;
    let s = start_with(config).await;
    dkimpy(
        s.smtp.port(),
        serde_json::json!({}),
        r#"
c = mx("127.0.0.1")
c.ehlo("client.sender.example")
assert c.sendmail("ceo@strict.example", ["bob@c.example"],
                  "From: <ceo@strict.example>\r\nSubject: forged\r\n\r\nhi\r\n") == {}
c.quit()
"#,
    )
    .await;
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1);
    assert!(header_block(&bob[0].1).contains("policy.dmarc=reject"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_dns_server_gives_temperror_not_a_refusal() {
    // A UDP socket that never answers: every question times out.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut config = test_config();
    config.nameservers = vec![silent.local_addr().unwrap()];
    config.auth_deadline = std::time::Duration::from_secs(2);
    let s = start_with(config).await;
    dkimpy(
        s.smtp.port(),
        serde_json::json!({}),
        r#"
c = mx("127.0.0.1")
c.ehlo("client.sender.example")
assert c.sendmail("x@sender.example", ["bob@c.example"],
                  "From: <x@sender.example>\r\nSubject: hi\r\n\r\nhi\r\n") == {}
c.quit()
"#,
    )
    .await;
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1);
    let head = header_block(&bob[0].1);
    assert!(head.contains("spf=temperror"), "{head}");
    let r = transactions(&s.core, s.customer, "x@sender.example");
    assert_eq!(r[0].auth.as_ref().expect("auth").dmarc, "temperror");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_mail_carries_rsa_and_ed25519_signatures_that_dkimpy_verifies() {
    let s = start().await;
    dkimpy(
        s.submission.port(),
        serde_json::json!({"password": PASSWORD}),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
expect(c.login("ann@c.example", ARG["password"]), 235)
msg = ("From: Ann <ann@c.example>\r\nTo: bob@c.example\r\nSubject: signed by the server\r\n"
       "Message-ID: <sub1@c.example>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n"
       "Body line one.\r\n  indented line   \r\n\r\n\r\n")
assert c.sendmail("ann@c.example", ["bob@c.example"], msg) == {}
c.quit()
"#,
    )
    .await;
    let records = marque_hosting::dkim::dkim_records(&s.core, "c.example")
        .await
        .expect("records");
    assert_eq!(records.len(), 2);
    assert!(records[0].selector.starts_with("marque-rsa-"));
    assert!(records[1].selector.starts_with("marque-ed-"));
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1);
    let message = String::from_utf8(bob[0].1.clone()).expect("utf-8");
    let head = header_block(message.as_bytes());
    assert_eq!(head.matches("DKIM-Signature:").count(), 2, "{head}");
    assert!(head.contains("a=rsa-sha256"), "{head}");
    assert!(head.contains("a=ed25519-sha256"), "{head}");
    let zone: serde_json::Map<String, serde_json::Value> = records
        .iter()
        .map(|r| (format!("{}.", r.txt_name), r.txt_value.clone().into()))
        .collect();
    let out = dkimpy(
        0,
        serde_json::json!({"zone": zone, "message": message}),
        r#"
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    if not name.endswith("."):
        name += "."
    v = ARG["zone"].get(name)
    return v.encode() if v is not None else None
msg = ARG["message"].encode()
d = dkim.DKIM(msg)
algs = []
for i in range(2):
    assert d.verify(idx=i, dnsfunc=dnsfunc), f"signature {i} does not verify"
    algs.append(d.signature_fields[b"a"].decode())
    h = d.signature_fields[b"h"].lower().split(b":")
    assert h.count(b"from") == 2, h
print(" ".join(sorted(algs)))
# A changed body breaks both.
def verifies(m, i):
    try:
        return dkim.DKIM(m).verify(idx=i, dnsfunc=dnsfunc)
    except dkim.ValidationError:
        return False
bad = msg.replace(b"Body line one.", b"Body line 1.")
assert not verifies(bad, 0)
assert not verifies(bad, 1)
"#,
    )
    .await;
    assert_eq!(out.trim(), "ed25519-sha256 rsa-sha256");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_limits_per_submission_user() {
    let mut config = test_config();
    config.submission_limits.max_messages_per_hour = 2;
    config.submission_limits.max_recipients_per_hour = 3;
    let s = start_with(config).await;
    dkimpy(
        s.submission.port(),
        serde_json::json!({"password": PASSWORD}),
        r#"
def login(user):
    c = smtplib.SMTP("127.0.0.1", PORT)
    c.starttls(context=CTX)
    c.ehlo("client.example")
    expect(c.login(user, ARG["password"]), 235)
    return c
MSG = "From: <ann@c.example>\r\nSubject: n\r\n\r\nhi\r\n"
c = login("ann@c.example")
for _ in range(2):
    expect(c.mail("ann@c.example"), 250)
    expect(c.rcpt("bob@c.example"), 250)
    expect(c.data(MSG), 250)
expect(c.mail("ann@c.example"), 451, "4.7.1")
c.quit()
# Another user has its own counters; its fourth recipient in the hour is refused.
c = login("bob@c.example")
expect(c.mail("bob@c.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.rcpt("team@c.example"), 250)
expect(c.rcpt("sales@c.example"), 250)
expect(c.rcpt("all@c.example"), 451, "4.7.1")
c.quit()
"#,
    )
    .await;
}
