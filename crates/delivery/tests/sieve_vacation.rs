//! Vacation (RFC 5230, RFC 3834) and duplicate (RFC 7352) through `deliver()`: one reply per
//! sender per period, never to lists, bulk mail, robots or the null sender, the reply's form.

mod sieve_support;

use marque_delivery::OutboundKind;
use sieve_support::{World, message, world};

const VACATION: &str = r#"require ["vacation"];
vacation :days 3 :subject "Away" :addresses ["ann@c.example"] "I am away until Monday.";"#;

async fn vacation_world() -> World {
    let w = world().await;
    w.script("ann@c.example", VACATION).await;
    w
}

#[tokio::test]
async fn replies_once_per_sender_per_period() {
    let w = vacation_world().await;
    let m = message("Joe <joe@remote.example>", "ann@c.example", "Lunch?", "b");
    w.deliver(&m, "joe@remote.example", &["ann@c.example"])
        .await;
    let sent = w.outbox.take();
    assert_eq!(sent.len(), 1);
    let reply = &sent[0];
    assert_eq!(reply.kind, OutboundKind::Vacation);
    assert_eq!(reply.from, "", "RFC 5230 §5.1: null envelope sender");
    assert_eq!(reply.to, vec!["joe@remote.example".to_string()]);
    let text = String::from_utf8_lossy(&reply.raw);
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    assert!(text.contains("Subject: Away"), "{text}");
    assert!(text.contains("In-Reply-To: <"), "{text}");
    assert!(text.contains("References: <"), "{text}");
    assert!(text.contains("I am away until Monday."));
    // The message itself is kept.
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);

    // Same sender again: no second reply; another sender gets one.
    let m2 = message("Joe <joe@remote.example>", "ann@c.example", "Lunch??", "b");
    w.deliver(&m2, "joe@remote.example", &["ann@c.example"])
        .await;
    assert!(w.outbox.take().is_empty());
    let m3 = message("sue@remote.example", "ann@c.example", "Hi", "b");
    w.deliver(&m3, "sue@remote.example", &["ann@c.example"])
        .await;
    assert_eq!(w.outbox.take().len(), 1);
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 3);
}

#[tokio::test]
async fn default_subject_is_auto_and_the_original() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require "vacation"; vacation "Back soon.";"#,
    )
    .await;
    let m = message(
        "joe@remote.example",
        "ann@c.example",
        "Quarterly report",
        "b",
    );
    w.deliver(&m, "joe@remote.example", &["ann@c.example"])
        .await;
    let sent = w.outbox.take();
    assert_eq!(sent.len(), 1);
    let text = String::from_utf8_lossy(&sent[0].raw);
    assert!(text.contains("Subject: Auto: Quarterly report"), "{text}");
}

#[tokio::test]
async fn never_to_lists_bulk_robots_or_the_null_sender() {
    let w = vacation_world().await;
    let base = message("joe@remote.example", "ann@c.example", "x", "b");
    let with = |h: &str| {
        let mut m = h.as_bytes().to_vec();
        m.extend_from_slice(&base);
        m
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            with("List-Id: <dev.lists.example>\r\n"),
            "joe@remote.example",
        ),
        (
            with("List-Unsubscribe: <mailto:u@x.example>\r\n"),
            "joe@remote.example",
        ),
        (with("Precedence: bulk\r\n"), "joe@remote.example"),
        (with("Precedence: list\r\n"), "joe@remote.example"),
        (with("Precedence: junk\r\n"), "joe@remote.example"),
        (
            with("Auto-Submitted: auto-generated\r\n"),
            "joe@remote.example",
        ),
        (base.clone(), ""),
        (base.clone(), "MAILER-DAEMON@remote.example"),
        (base.clone(), "owner-dev@remote.example"),
        (base.clone(), "dev-request@remote.example"),
    ];
    for (m, sender) in cases {
        w.deliver(&m, sender, &["ann@c.example"]).await;
        assert!(
            w.outbox.take().is_empty(),
            "replied to {sender:?}: {}",
            String::from_utf8_lossy(&m[..40])
        );
    }
    // All of them were still delivered.
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 10);
}

#[tokio::test]
async fn only_when_the_user_is_a_visible_recipient() {
    let w = vacation_world().await;
    // Bcc'd (not in To/Cc): RFC 5230 §4.5.
    let m = message("joe@remote.example", "team@other.example", "x", "b");
    w.deliver(&m, "joe@remote.example", &["ann@c.example"])
        .await;
    assert!(w.outbox.take().is_empty());
}

#[tokio::test]
async fn duplicate_detects_a_message_seen_before() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require ["duplicate", "fileinto", "mailbox"];
           if duplicate { fileinto :create "Dups"; }"#,
    )
    .await;
    let m = message("joe@remote.example", "ann@c.example", "x", "b");
    w.deliver(&m, "joe@remote.example", &["ann@c.example"])
        .await;
    w.deliver(&m, "joe@remote.example", &["ann@c.example"])
        .await;
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);
    assert_eq!(w.folder("ann@c.example", "Dups").await.len(), 1);
    // Per account: bob has not seen it.
    w.script(
        "bob@c.example",
        r#"require ["duplicate", "fileinto", "mailbox"];
           if duplicate { fileinto :create "Dups"; }"#,
    )
    .await;
    w.deliver(&m, "joe@remote.example", &["bob@c.example"])
        .await;
    assert_eq!(w.folder("bob@c.example", "INBOX").await.len(), 1);
}

#[tokio::test]
async fn the_reply_memory_expires() {
    let w = world().await;
    let account = w.account("ann@c.example").await;
    w.core
        .store()
        .transact(move |txn| -> marque_store::Result<()> {
            marque_store::sieve_seen::record(txn, account, "_vjoe@remote.example", 1_000);
            Ok(())
        })
        .await
        .unwrap();
    let s = w.core.store();
    let id = "_vjoe@remote.example";
    assert!(marque_store::sieve_seen::seen(s, account, id, 999).unwrap());
    assert!(!marque_store::sieve_seen::seen(s, account, id, 1_000).unwrap());
    let bob = w.account("bob@c.example").await;
    assert!(!marque_store::sieve_seen::seen(s, bob, id, 0).unwrap());
}
