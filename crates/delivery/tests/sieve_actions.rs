//! Every Sieve action end to end through `deliver()` on a real store: keep, fileinto (with
//! `:create` and special-use), discard, reject (alone and mixed, with the DSN), redirect (with
//! and without `:copy`, forwards), imap4flags, editheader, a broken script, the run-time limits.

mod sieve_support;

use marque_delivery::{OutboundKind, Outcome, RecipientResult, SieveConfig};
use sieve_support::{message, world};

#[tokio::test]
async fn no_script_and_keep_store_in_inbox() {
    let w = world().await;
    let m = message("x@remote.example", "ann@c.example", "hi", "hello");
    let (res, _) = w.deliver(&m, "x@remote.example", &["ann@c.example"]).await;
    assert!(matches!(res[0], RecipientResult::Delivered { .. }));
    w.script("ann@c.example", "keep;").await;
    w.deliver(&m, "x@remote.example", &["ann@c.example"]).await;
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 2);
}

#[tokio::test]
async fn fileinto_creates_with_create_and_falls_back_to_inbox_without() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require ["fileinto", "mailbox"];
           if header :contains "subject" "work" { fileinto :create "Work/Reports"; }
           elsif header :contains "subject" "news" { fileinto "Missing"; }"#,
    )
    .await;
    let (res, _) = w.deliver_subject("ann@c.example", "work: TPS").await;
    assert!(matches!(res[0], RecipientResult::Delivered { .. }));
    assert_eq!(w.folder("ann@c.example", "Work/Reports").await.len(), 1);
    assert!(w.folder("ann@c.example", "INBOX").await.is_empty());

    let (_, record) = w.deliver_subject("ann@c.example", "news").await;
    assert!(!w.folder_exists("ann@c.example", "Missing").await);
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);
    assert!(record.recipients[0].reason.contains("does not exist"));
}

#[tokio::test]
async fn fileinto_specialuse_finds_the_folder_by_attribute() {
    let w = world().await;
    // New accounts have `Archive` with `\Archive` (RFC 6154).
    w.script(
        "ann@c.example",
        r#"require ["fileinto", "special-use"]; fileinto :specialuse "\\Archive" "Old mail";"#,
    )
    .await;
    w.deliver_subject("ann@c.example", "old").await;
    assert_eq!(w.folder("ann@c.example", "Archive").await.len(), 1);
    assert!(!w.folder_exists("ann@c.example", "Old mail").await);
}

#[tokio::test]
async fn discard_stores_nothing_and_says_so() {
    let w = world().await;
    w.script("ann@c.example", "discard;").await;
    let (res, record) = w.deliver_subject("ann@c.example", "x").await;
    assert_eq!(res[0], RecipientResult::Discarded);
    assert_eq!(record.recipients[0].outcome, Outcome::Delivered);
    assert!(record.recipients[0].reason.contains("discarded"));
    assert!(w.folder("ann@c.example", "INBOX").await.is_empty());
}

/// A rejecting script: the message is refused with the script's reason, and nothing is
/// queued (the SMTP session answers 550).
#[tokio::test]
async fn reject_and_ereject_refuse_with_their_reason_and_queue_nothing() {
    for (script, reason) in [
        (
            r#"require "reject"; reject "I do not want this";"#,
            "I do not want this",
        ),
        (r#"require "ereject"; ereject "no";"#, "no"),
    ] {
        let w = world().await;
        w.script("ann@c.example", script).await;
        let (res, record) = w.deliver_subject("ann@c.example", "spam").await;
        assert_eq!(
            res[0],
            RecipientResult::Rejected {
                reason: reason.into()
            },
            "{script}"
        );
        assert_eq!(record.recipients[0].outcome, Outcome::Rejected, "{script}");
        assert!(w.outbox.take().is_empty(), "the SMTP session answers 550");
    }
}

#[tokio::test]
async fn reject_mixed_with_a_delivery_queues_a_dsn() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require "reject"; reject "I do not want this";"#,
    )
    .await;
    let m = message("x@remote.example", "ann@c.example", "spam", "b");
    let (res, _) = w
        .deliver(&m, "x@remote.example", &["ann@c.example", "bob@c.example"])
        .await;
    assert!(matches!(res[0], RecipientResult::Rejected { .. }));
    assert!(matches!(res[1], RecipientResult::Delivered { .. }));
    let sent = w.outbox.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, OutboundKind::Bounce);
    assert_eq!(sent[0].from, "");
    assert_eq!(sent[0].to, vec!["x@remote.example".to_string()]);
    let dsn = String::from_utf8_lossy(&sent[0].raw);
    assert!(dsn.contains("report-type=delivery-status"));
    assert!(dsn.contains("Final-Recipient: rfc822; ann@c.example"));
    assert!(dsn.contains("I do not want this"));

    // Never a DSN to the null sender.
    w.deliver(&m, "", &["ann@c.example", "bob@c.example"]).await;
    assert!(w.outbox.take().is_empty());
}

#[tokio::test]
async fn redirect_forwards_and_copy_keeps() {
    let w = world().await;
    // A forward without a local copy.
    w.script("ann@c.example", r#"redirect "ann@elsewhere.example";"#)
        .await;
    let (res, record) = w.deliver_subject("ann@c.example", "fwd").await;
    assert_eq!(
        res[0],
        RecipientResult::Redirected {
            to: vec!["ann@elsewhere.example".into()]
        }
    );
    assert_eq!(record.recipients[0].outcome, Outcome::Queued);
    assert!(w.folder("ann@c.example", "INBOX").await.is_empty());
    let sent = w.outbox.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, OutboundKind::Redirect);
    assert_eq!(
        sent[0].from, "x@remote.example",
        "the envelope sender is kept"
    );
    let raw = String::from_utf8_lossy(&sent[0].raw);
    assert!(raw.starts_with("X-Marque-Loop: <ann@c.example>\r\n"));
    assert!(raw.contains("Subject: fwd"));

    // A forward with a local copy.
    w.script(
        "ann@c.example",
        r#"require "copy"; redirect :copy "ann@elsewhere.example";"#,
    )
    .await;
    let (res, _) = w.deliver_subject("ann@c.example", "fwd2").await;
    assert!(matches!(res[0], RecipientResult::Delivered { .. }));
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);
    assert_eq!(w.outbox.take().len(), 1);
}

#[tokio::test]
async fn redirect_without_outbound_queue_keeps_the_message() {
    let mut w = world().await;
    w.env.outbox = std::sync::Arc::new(marque_delivery::NoOutbox);
    w.script("ann@c.example", r#"redirect "ann@elsewhere.example";"#)
        .await;
    let (res, record) = w.deliver_subject("ann@c.example", "fwd").await;
    assert!(matches!(res[0], RecipientResult::Delivered { .. }));
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);
    assert!(record.recipients[0].reason.contains("not sent"));
}

#[tokio::test]
async fn redirect_loop_between_two_mailboxes_stops() {
    let w = world().await;
    w.script("ann@c.example", r#"redirect "bob@c.example";"#)
        .await;
    w.script("bob@c.example", r#"redirect "ann@c.example";"#)
        .await;
    // Play the queue: each redirect to a local address is delivered again, locally.
    let mut raw = message("x@remote.example", "ann@c.example", "loop", "b");
    let mut to = "ann@c.example".to_string();
    let mut hops = 0;
    loop {
        let (res, _) = w.deliver(&raw, "x@remote.example", &[&to]).await;
        let sent = w.outbox.take();
        if sent.is_empty() {
            assert!(matches!(res[0], RecipientResult::Delivered { .. }));
            break;
        }
        hops += 1;
        assert!(hops < 10, "the loop did not stop");
        raw = sent[0].raw.clone();
        to = sent[0].to[0].clone();
    }
    // ann → bob → ann: ann sees its own loop header and keeps the message.
    assert_eq!(hops, 2);
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);
    assert!(w.folder("bob@c.example", "INBOX").await.is_empty());
}

#[tokio::test]
async fn redirect_hop_limit_keeps() {
    let w = sieve_support::world_with(marque_delivery::SieveConfig {
        max_redirect_hops: 1,
        ..Default::default()
    })
    .await;
    w.script("bob@c.example", r#"redirect "carol@far.example";"#)
        .await;
    let mut raw = b"X-Marque-Loop: <someone@far.example>\r\n".to_vec();
    raw.extend(message("x@remote.example", "bob@c.example", "hop", "b"));
    let (res, record) = w
        .deliver(&raw, "x@remote.example", &["bob@c.example"])
        .await;
    assert!(matches!(res[0], RecipientResult::Delivered { .. }));
    assert!(w.outbox.take().is_empty());
    assert!(record.recipients[0].reason.contains("redirect loop"));
}

#[tokio::test]
async fn imap4flags_set_flags_and_keywords_on_the_stored_message() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require ["imap4flags", "fileinto"];
           addflag "\\Flagged";
           addflag "$Important";
           fileinto :flags "\\Seen $Work" "INBOX";
           keep;"#,
    )
    .await;
    w.deliver_subject("ann@c.example", "x").await;
    let inbox = w.folder("ann@c.example", "INBOX").await;
    assert_eq!(inbox.len(), 2);
    let flags: Vec<(Vec<&str>, Vec<String>)> = inbox
        .iter()
        .map(|(m, _)| (m.flags.names(), m.keywords.clone()))
        .collect();
    assert!(
        flags.contains(&(vec!["\\Seen"], vec!["$Work".to_string()])),
        "{flags:?}"
    );
    assert!(
        flags.contains(&(vec!["\\Flagged"], vec!["$Important".to_string()])),
        "{flags:?}"
    );
}

#[tokio::test]
async fn editheader_changes_only_that_recipients_copy() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require ["editheader"];
           addheader "X-Filtered" "yes";
           deleteheader "X-Spam";"#,
    )
    .await;
    let mut raw = b"X-Spam: 9\r\n".to_vec();
    raw.extend(message("x@remote.example", "ann@c.example", "x", "b"));
    w.deliver(
        &raw,
        "x@remote.example",
        &["ann@c.example", "bob@c.example"],
    )
    .await;
    let ann = w.folder("ann@c.example", "INBOX").await;
    let bob = w.folder("bob@c.example", "INBOX").await;
    assert!(ann[0].1.contains("X-Filtered: yes"), "{}", ann[0].1);
    assert!(!ann[0].1.contains("X-Spam"));
    assert!(bob[0].1.contains("X-Spam: 9"));
    assert_ne!(ann[0].0.blob, bob[0].0.blob);
}

/// A script that cannot run to its end (broken, asking for what is not offered, over a run-time
/// limit): the message goes to the INBOX, none of the script's folders is made, and the record
/// says why.
#[tokio::test]
async fn a_failing_script_still_delivers_to_inbox_and_says_why() {
    let mut runaway = String::from("require \"fileinto\";\n");
    for i in 0..100 {
        runaway.push_str(&format!(
            "if header :contains \"subject\" \"n{i}\" {{ fileinto \"F{i}\"; }}\n"
        ));
    }
    let cases = [
        // Does not compile.
        (
            SieveConfig::default(),
            "if header :is {".to_string(),
            None,
            "Sieve script failed",
        ),
        // Fails at run time: an extension that is not offered here.
        (
            SieveConfig::default(),
            r#"require ["fileinto", "enotify"]; fileinto "X"; notify "mailto:a@b.example";"#
                .to_string(),
            Some("X"),
            "enotify",
        ),
        (
            SieveConfig {
                max_instructions: 50,
                ..Default::default()
            },
            runaway,
            None,
            "instruction limit",
        ),
        (
            SieveConfig {
                max_actions: 2,
                ..Default::default()
            },
            r#"require ["fileinto", "mailbox"]; fileinto :create "A"; fileinto :create "B"; fileinto :create "C";"#
                .to_string(),
            Some("A"),
            "actions",
        ),
    ];
    for (config, script, not_made, why) in cases {
        let w = sieve_support::world_with(config).await;
        w.script("ann@c.example", &script).await;
        let (res, record) = w.deliver_subject("ann@c.example", "x").await;
        assert!(matches!(res[0], RecipientResult::Delivered { .. }), "{why}");
        assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1, "{why}");
        if let Some(folder) = not_made {
            assert!(!w.folder_exists("ann@c.example", folder).await, "{why}");
        }
        assert!(
            record.recipients[0].reason.contains(why),
            "{}",
            record.recipients[0].reason
        );
    }
}

#[tokio::test]
async fn over_quota_with_a_script_stores_nothing() {
    let w = world().await;
    w.script(
        "tiny@c.example",
        r#"require ["fileinto", "mailbox"]; fileinto :create "Big";"#,
    )
    .await;
    let big = message(
        "x@remote.example",
        "tiny@c.example",
        "x",
        &"a".repeat(2 * 1024 * 1024),
    );
    let (res, _) = w
        .deliver(&big, "x@remote.example", &["tiny@c.example"])
        .await;
    assert!(matches!(res[0], RecipientResult::OverQuota { .. }));
    assert!(w.folder("tiny@c.example", "Big").await.is_empty());
}
