//! Sieve through the MX listener with Python's smtplib: keep, fileinto, discard, and reject
//! (a `550 5.7.1` while the session is open when every recipient rejects; accepted when only
//! some do).

mod common;

use common::{account, inbox, python, start};
use marque_core::Core;
use marque_store::mail;

async fn script(core: &Core, address: &str, text: &'static str) {
    let account = account(core, address).await;
    core.store()
        .transact(move |txn| -> marque_store::Result<()> {
            marque_store::sieve::put(txn, account, "main", text.as_bytes())?;
            marque_store::sieve::set_active(txn, account, Some("main"))
        })
        .await
        .unwrap();
}

async fn folder(core: &Core, address: &str, name: &str) -> usize {
    let account = account(core, address).await;
    let s = core.store();
    match mail::mailbox_by_name(s, account, name).unwrap() {
        Some(f) => mail::messages(s, account, f.id, 1, 1000).unwrap().len(),
        None => 0,
    }
}

const ANN: &str = r#"require ["fileinto", "mailbox", "reject"];
if header :contains "subject" "work" { fileinto :create "Work"; }
elsif header :contains "subject" "junk" { discard; }
elsif header :contains "subject" "unwanted" { reject "Not interested, thanks"; }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_fileinto_discard_and_reject_over_smtp() {
    let s = start().await;
    script(&s.core, "ann@c.example", ANN).await;
    let out = python(
        s.smtp.port(),
        r#"
def msg(subject):
    return "From: x@remote.example\r\nTo: ann@c.example\r\nSubject: %s\r\n\r\nBody.\r\n" % subject

c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
assert c.sendmail("x@remote.example", ["ann@c.example"], msg("hello")) == {}
assert c.sendmail("x@remote.example", ["ann@c.example"], msg("work: report")) == {}
assert c.sendmail("x@remote.example", ["ann@c.example"], msg("junk offer")) == {}
try:
    c.sendmail("x@remote.example", ["ann@c.example"], msg("unwanted"))
    raise SystemExit("the reject was accepted")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 550, e
    assert b"5.7.1 Not interested, thanks" in e.smtp_error, e.smtp_error
    print("REJECTED", e.smtp_code)
# Mixed: bob has no script and takes it, so the transaction is accepted.
assert c.sendmail("x@remote.example", ["ann@c.example", "bob@c.example"], msg("unwanted")) == {}
c.quit()
"#,
    )
    .await;
    assert!(out.contains("REJECTED 550"), "{out}");
    // keep: "hello"; fileinto: "work"; discard and reject: nothing.
    let ann = inbox(&s.core, "ann@c.example").await;
    assert_eq!(ann.len(), 1);
    assert!(String::from_utf8_lossy(&ann[0].1).contains("Subject: hello"));
    assert_eq!(folder(&s.core, "ann@c.example", "Work").await, 1);
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1);
}
