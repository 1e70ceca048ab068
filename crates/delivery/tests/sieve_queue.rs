//! Redirects, vacation replies and reject bounces through the real outbound queue
//! ([`QueueOutbox`]): each becomes a queue entry in the delivery's own durable write, with the
//! right kind, envelope and body.

mod sieve_support;

use std::sync::Arc;

use marque_delivery::{QueueOutbox, RecipientResult};
use marque_hosting::outbound::{self, Kind, QueuedMessage};
use sieve_support::{message, world};

async fn queued(w: &sieve_support::World) -> Vec<(QueuedMessage, String)> {
    let store = w.core.store().clone();
    let entries = marque_store::queue::list(&store, 0, 100).unwrap();
    let mut out = Vec::new();
    for e in entries {
        let (_, m) = outbound::get(&store, e.id).unwrap().expect("entry");
        let body = marque_store::blob::read(&store, &m.blob)
            .unwrap()
            .expect("queued body is stored");
        out.push((m, String::from_utf8_lossy(&body).into_owned()));
    }
    out
}

#[tokio::test]
async fn redirect_vacation_and_reject_bounce_are_queued_with_the_delivery() {
    let mut w = world().await;
    w.env.outbox = Arc::new(QueueOutbox::new(w.core.store()));
    w.script(
        "ann@c.example",
        r#"require ["vacation", "copy"];
           redirect :copy "ann.elsewhere@remote.example";
           vacation :days 1 :addresses ["ann@c.example"] "Away this week.";"#,
    )
    .await;
    w.script("bob@c.example", r#"require "reject"; reject "Not here.";"#)
        .await;
    let (res, record) = w
        .deliver(
            &message("x@remote.example", "ann@c.example", "Plans", "See you."),
            "x@remote.example",
            &["ann@c.example", "bob@c.example"],
        )
        .await;
    assert!(
        matches!(res[0], RecipientResult::Delivered { .. }),
        "{res:?}"
    );
    assert!(
        matches!(res[1], RecipientResult::Rejected { .. }),
        "{res:?}"
    );
    assert_eq!(w.folder("ann@c.example", "INBOX").await.len(), 1);

    let q = queued(&w).await;
    let kinds: Vec<Kind> = q.iter().map(|(m, _)| m.kind).collect();
    assert_eq!(
        q.len(),
        3,
        "redirect, vacation and bounce: {kinds:?}; {record:?}"
    );

    let (redirect, body) = q.iter().find(|(m, _)| m.kind == Kind::Redirect).unwrap();
    assert_eq!(
        redirect.recipients[0].address,
        "ann.elsewhere@remote.example"
    );
    assert!(body.contains("Subject: Plans"), "{body}");
    assert!(body.contains("X-Marque-Loop"), "{body}");

    let (vacation, body) = q.iter().find(|(m, _)| m.kind == Kind::Vacation).unwrap();
    assert_eq!(vacation.recipients[0].address, "x@remote.example");
    assert!(
        vacation.sender.is_empty(),
        "vacation replies use the null sender"
    );
    assert!(body.contains("Auto-Submitted: auto-replied"), "{body}");
    assert!(body.contains("Away this week."), "{body}");

    let (bounce, body) = q.iter().find(|(m, _)| m.kind == Kind::Bounce).unwrap();
    assert_eq!(bounce.recipients[0].address, "x@remote.example");
    assert!(bounce.sender.is_empty());
    assert!(body.contains("message/delivery-status"), "{body}");
    assert!(body.contains("bob@c.example"), "{body}");
}
