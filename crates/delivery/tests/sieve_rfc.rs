//! The example scripts of RFC 5228 (Sieve) and RFC 5230 (vacation) as test vectors: each runs
//! through `deliver()` with messages chosen to take each branch, and the resulting actions are
//! checked in the store and the outbox.

mod sieve_support;

use marque_delivery::{OutboundKind, RecipientResult};
use sieve_support::{World, message, world};

/// RFC 5228 §9 ("Extended Example"), verbatim.
const RFC5228_EXTENDED: &str = r#"#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
"#;

/// RFC 5228 §3.1 (the `if` example).
const RFC5228_IF: &str = r#"if header :contains ["From"] ["coyote"] {
   redirect "acm@example.com";
} elsif header :contains "Subject" "$$$" {
   redirect "postmaster@example.com";
} else {
   redirect "field@example.com";
}
"#;

async fn folders(w: &World, names: &[&'static str]) {
    let account = w.account("ann@c.example").await;
    let names: Vec<&'static str> = names.to_vec();
    w.core
        .store()
        .transact(move |txn| -> marque_store::Result<()> {
            for n in names {
                marque_store::mail::create_mailbox(txn, account, n, None)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

fn raw(headers: &str) -> Vec<u8> {
    format!(
        "{headers}Message-ID: <{}@x.example>\r\n\r\nbody\r\n",
        blake3::hash(headers.as_bytes()).to_hex()
    )
    .into_bytes()
}

#[tokio::test]
async fn rfc5228_extended_example() {
    let w = world().await;
    folders(&w, &["filter", "spam", "personal"]).await;
    w.script("ann@c.example", RFC5228_EXTENDED).await;
    let cases = [
        (
            "From: a@imc.org\r\nSender: owner-ietf-mta-filters@imc.org\r\nTo: me@example.com\r\nSubject: draft\r\n",
            "filter",
        ),
        (
            "From: boss@example.com\r\nTo: me@example.com\r\nSubject: meeting\r\n",
            "INBOX",
        ),
        (
            "From: bulk@spam.example\r\nTo: someone@else.example\r\nSubject: hi\r\n",
            "spam",
        ),
        (
            // To "me", but not in the company's domain: the subject decides.
            "From: bulk@spam.example\r\nTo: me@example.com.au\r\nSubject: make lots of money fast\r\n",
            "spam",
        ),
        (
            "From: friend@other.example\r\nTo: me@example.com.au\r\nSubject: hello\r\n",
            "personal",
        ),
    ];
    for (headers, folder) in cases {
        let before = w.folder("ann@c.example", folder).await.len();
        w.deliver(&raw(headers), "x@remote.example", &["ann@c.example"])
            .await;
        assert_eq!(
            w.folder("ann@c.example", folder).await.len(),
            before + 1,
            "{headers} -> {folder}"
        );
    }
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);
}

#[tokio::test]
async fn rfc5228_if_example_redirects() {
    let w = world().await;
    w.script("ann@c.example", RFC5228_IF).await;
    let cases = [
        (
            "From: Wile E. Coyote <coyote@acme.example>\r\nSubject: x\r\n",
            "acm@example.com",
        ),
        (
            "From: a@b.example\r\nSubject: win $$$ now\r\n",
            "postmaster@example.com",
        ),
        (
            "From: a@b.example\r\nSubject: hello\r\n",
            "field@example.com",
        ),
    ];
    for (headers, to) in cases {
        let (res, _) = w
            .deliver(&raw(headers), "x@remote.example", &["ann@c.example"])
            .await;
        assert_eq!(
            res[0],
            RecipientResult::Redirected {
                to: vec![to.into()]
            }
        );
        let sent = w.outbox.take();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].kind, OutboundKind::Redirect);
        assert_eq!(sent[0].to, vec![to.to_string()]);
    }
    assert!(w.folder("ann@c.example", "INBOX").await.is_empty());
}

#[tokio::test]
async fn rfc5228_size_and_address_examples() {
    let w = world().await;
    // RFC 5228 §5.9 and §5.1.
    w.script(
        "ann@c.example",
        r#"if address :is :all "from" "tim@example.com" { discard; }
           elsif size :over 100K { discard; }"#,
    )
    .await;
    let (res, _) = w
        .deliver(
            &message("tim@example.com", "ann@c.example", "x", "b"),
            "tim@example.com",
            &["ann@c.example"],
        )
        .await;
    assert_eq!(res[0], RecipientResult::Discarded);
    let big = message("a@b.example", "ann@c.example", "x", &"y".repeat(150 * 1024));
    let (res, _) = w.deliver(&big, "a@b.example", &["ann@c.example"]).await;
    assert_eq!(res[0], RecipientResult::Discarded);
    let (res, _) = w
        .deliver(
            &message("a@b.example", "ann@c.example", "x", "small"),
            "a@b.example",
            &["ann@c.example"],
        )
        .await;
    assert!(matches!(res[0], RecipientResult::Delivered { .. }));
}

/// Delivers a message from `from` (envelope and header) to ann and returns the one reply.
async fn reply(w: &World, from: &str, subject: &str) -> Option<String> {
    let m = message(from, "ann@c.example", subject, "b");
    w.deliver(&m, from, &["ann@c.example"]).await;
    let mut sent = w.outbox.take();
    assert!(sent.len() <= 1);
    sent.pop().map(|s| {
        assert_eq!(s.kind, OutboundKind::Vacation);
        assert_eq!(s.to, vec![from.to_string()]);
        assert_eq!(s.from, "");
        String::from_utf8_lossy(&s.raw).into_owned()
    })
}

#[tokio::test]
async fn rfc5230_section_4_example() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require "vacation";
   if header :contains "subject" "cyrus" {
       vacation "I'm out -- send mail to cyrus-bugs";
   } else {
       vacation "I'm out -- call me at +1 304 555 0123";
   }"#,
    )
    .await;
    let r = reply(&w, "a@b.example", "cyrus crashed").await.unwrap();
    assert!(r.contains("I'm out -- send mail to cyrus-bugs"));
    let r = reply(&w, "c@d.example", "lunch").await.unwrap();
    assert!(r.contains("I'm out -- call me at +1 304 555 0123"));
    // Once per sender and reason.
    assert!(reply(&w, "c@d.example", "lunch again").await.is_none());
}

#[tokio::test]
async fn rfc5230_days_and_addresses_example() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require "vacation";
   vacation :days 23 :addresses ["tjs@example.edu",
                                 "ts4z@landru.example.edu"]
   "I'm away until October 19.  If it's an emergency, call 911, I guess." ;"#,
    )
    .await;
    // To one of the :addresses (not the mailbox's own): a reply.
    let m = message("a@b.example", "tjs@example.edu", "x", "b");
    w.deliver(&m, "a@b.example", &["ann@c.example"]).await;
    let sent = w.outbox.take();
    assert_eq!(sent.len(), 1);
    assert!(String::from_utf8_lossy(&sent[0].raw).contains("October 19"));
    // To none of them: no reply.
    let m = message("c@d.example", "other@else.example", "x", "b");
    w.deliver(&m, "c@d.example", &["ann@c.example"]).await;
    assert!(w.outbox.take().is_empty());
}

#[tokio::test]
async fn rfc5230_subject_and_from_examples() {
    let w = world().await;
    // A `:from` is used when it is the user's: here an alias that delivers to ann.
    w.core
        .create_alias(
            &marque_core::Actor::operator(),
            "ann.other@c.example",
            &["ann@c.example".into()],
        )
        .await
        .expect("alias");
    w.script(
        "ann@c.example",
        r#"require "vacation";
   vacation :subject "Gone fishin'" :from "ann.other@c.example"
            "I'm out -- call me at +1 304 555 0123";"#,
    )
    .await;
    let r = reply(&w, "a@b.example", "x").await.unwrap();
    assert!(r.contains("Subject: Gone fishin'"), "{r}");
    assert!(r.contains("From: ann.other@c.example"), "{r}");
}

#[tokio::test]
async fn rfc5230_variables_example() {
    let w = world().await;
    w.script(
        "ann@c.example",
        r#"require ["vacation", "variables"];
   if header :matches "subject" "*" {
       vacation :subject "Automatic response to: ${1}"
                "I'm away -- send mail to foo in my absence";
   }"#,
    )
    .await;
    let r = reply(&w, "a@b.example", "Budget").await.unwrap();
    assert!(r.contains("Subject: Automatic response to: Budget"), "{r}");
}
