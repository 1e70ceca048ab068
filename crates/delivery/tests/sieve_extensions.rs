//! Every extension advertised in `marque_delivery::sieve::EXTENSIONS` runs end to end here: a
//! script that requires it and only files the message into `Archive` when the extension did
//! its job. A new entry in the list without a case here fails the first test.

mod sieve_support;

use marque_delivery::RecipientResult;
use marque_delivery::sieve::EXTENSIONS;
use sieve_support::{message, world};

/// (extension, script body after `require`, extra header lines of the message).
const CASES: &[(&str, &str, &str)] = &[
    ("fileinto", r#"fileinto "Archive";"#, ""),
    (
        "envelope",
        r#"if envelope :all :is "from" "x@remote.example" { fileinto "Archive"; }"#,
        "",
    ),
    (
        "encoded-character",
        r#"if header :is "subject" "${hex:74 65 73 74}" { fileinto "Archive"; }"#,
        "",
    ),
    (
        "comparator-i;ascii-numeric",
        r#"if header :comparator "i;ascii-numeric" :is "X-Score" "007" { fileinto "Archive"; }"#,
        "X-Score: 7\r\n",
    ),
    (
        "comparator-i;ascii-casemap",
        r#"if header :comparator "i;ascii-casemap" :is "subject" "TEST" { fileinto "Archive"; }"#,
        "",
    ),
    (
        "comparator-i;octet",
        r#"if not header :comparator "i;octet" :is "subject" "TEST" { fileinto "Archive"; }"#,
        "",
    ),
    (
        "body",
        r#"if body :contains "needle" { fileinto "Archive"; }"#,
        "",
    ),
    ("copy", r#"fileinto :copy "Archive"; discard;"#, ""),
    (
        "relational",
        r#"if header :value "gt" :comparator "i;ascii-numeric" "X-Score" "5" { fileinto "Archive"; }"#,
        "X-Score: 7\r\n",
    ),
    (
        "date",
        r#"if date :is "date" "year" "2026" { fileinto "Archive"; }"#,
        "",
    ),
    (
        "index",
        r#"if header :index 2 :is "X-Hop" "second" { fileinto "Archive"; }"#,
        "X-Hop: first\r\nX-Hop: second\r\n",
    ),
    (
        "duplicate",
        r#"if not duplicate { fileinto "Archive"; }"#,
        "",
    ),
    (
        "variables",
        r#"set "box" "Arch"; if header :matches "subject" "t*t" { fileinto "${box}ive"; }"#,
        "",
    ),
    (
        "editheader",
        r#"addheader "X-Seen-By" "sieve"; if header :is "X-Seen-By" "sieve" { fileinto "Archive"; }"#,
        "",
    ),
    (
        "imap4flags",
        r#"setflag "$ext"; if hasflag "$ext" { fileinto "Archive"; }"#,
        "",
    ),
    (
        "mailbox",
        r#"if mailboxexists "Archive" { fileinto :create "Archive"; }"#,
        "",
    ),
    (
        "special-use",
        r#"if specialuse_exists "\\Archive" { fileinto :specialuse "\\Archive" "Nope"; }"#,
        "",
    ),
    ("vacation", r#"vacation "away"; fileinto "Archive";"#, ""),
    (
        "vacation-seconds",
        r#"vacation :seconds 60 "away"; fileinto "Archive";"#,
        "",
    ),
    (
        "subaddress",
        r#"if envelope :detail "to" "lists" { fileinto "Archive"; }"#,
        "",
    ),
    ("include", r#"include :personal "archive-rule";"#, ""),
    (
        "regex",
        r#"if header :regex "subject" "^t[a-z]+t$" { fileinto "Archive"; }"#,
        "",
    ),
    ("reject", r#"reject "no"; fileinto "Archive";"#, ""),
    ("ereject", r#"ereject "no"; fileinto "Archive";"#, ""),
];

#[test]
fn every_advertised_extension_has_a_case() {
    let mut advertised: Vec<&str> = EXTENSIONS.to_vec();
    let mut tested: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    advertised.sort_unstable();
    tested.sort_unstable();
    assert_eq!(advertised, tested);
}

#[tokio::test]
async fn every_advertised_extension_works() {
    let w = world().await;
    let ann = w.account("ann@c.example").await;
    // For `include`: a personal script the main script includes.
    w.core
        .store()
        .transact(move |txn| {
            marque_store::sieve::put(
                txn,
                ann,
                "archive-rule",
                br#"require "fileinto"; fileinto "Archive";"#,
            )
        })
        .await
        .unwrap();
    for (i, (ext, body, headers)) in CASES.iter().enumerate() {
        let mut requires = vec!["fileinto", ext];
        if *ext == "encoded-character" || *ext == "editheader" || *ext == "include" {
            requires.push("variables");
        }
        if *ext == "vacation-seconds" {
            requires.push("vacation");
        }
        if *ext == "subaddress" {
            requires.push("envelope");
        }
        let script = format!(
            "require [{}];\n{body}",
            requires
                .iter()
                .map(|r| format!("\"{r}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        w.script("ann@c.example", &script).await;
        let mut raw = headers.as_bytes().to_vec();
        raw.extend(message(
            "x@remote.example",
            "ann@c.example",
            "test",
            &format!("the needle {i}"),
        ));
        let to = if *ext == "subaddress" {
            "ann+lists@c.example"
        } else {
            "ann@c.example"
        };
        let mut r = w.local("ann@c.example").await;
        r.address = to.into();
        let before = w.folder("ann@c.example", "Archive").await.len();
        let (res, record) = marque_delivery::deliver(
            &w.core,
            &w.env,
            marque_delivery::Delivery {
                raw,
                sender: "x@remote.example".into(),
                recipients: vec![r],
                record: Default::default(),
                extra_owners: vec![],
            },
        )
        .await
        .unwrap();
        let reason = &record.recipients[0].reason;
        assert!(!reason.contains("Sieve script failed"), "{ext}: {reason}");
        if *ext == "reject" || *ext == "ereject" {
            assert!(matches!(res[0], RecipientResult::Rejected { .. }), "{ext}");
            continue;
        }
        let after = w.folder("ann@c.example", "Archive").await.len();
        assert_eq!(after, before + 1, "{ext}: {reason} {res:?}");
    }
    // The vacation cases queued their replies.
    assert!(!w.outbox.take().is_empty());
}

#[tokio::test]
async fn an_extension_not_advertised_is_refused_at_run_time() {
    let w = world().await;
    for ext in [
        "enotify",
        "extlists",
        "foreverypart",
        "environment",
        "spamtest",
    ] {
        w.script(
            "ann@c.example",
            &format!(r#"require ["fileinto", "{ext}"]; fileinto "Archive";"#),
        )
        .await;
        let (_, record) = w
            .deliver(
                &message("x@remote.example", "ann@c.example", "x", "b"),
                "x@remote.example",
                &["ann@c.example"],
            )
            .await;
        assert!(
            record.recipients[0].reason.contains("Sieve script failed"),
            "{ext}: {}",
            record.recipients[0].reason
        );
    }
    assert!(w.folder("ann@c.example", "Archive").await.is_empty());
}
