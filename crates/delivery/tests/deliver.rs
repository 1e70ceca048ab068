//! Local delivery on a real store: one body for many recipients, quota per recipient, the
//! transaction record in the same durable write.

use marque_core::{AccountId, Core, PROVIDER, Recipient};
use marque_delivery::{Delivery, LocalRecipient, Outcome, RecipientResult, TransactionRecord};
use marque_store::logs::{self, LogKind, Query, Term};
use marque_store::{blob, mail};
use marque_tests::Platform;

async fn local(core: &Core, address: &str) -> LocalRecipient {
    match core.resolve_address(address).await.unwrap() {
        Some(Recipient::Mailbox {
            account, tenant, ..
        }) => LocalRecipient {
            address: address.into(),
            account,
            tenant,
        },
        other => panic!("{address} is not a mailbox: {other:?}"),
    }
}

fn message(body_len: usize) -> Vec<u8> {
    let mut m = b"From: x@remote.example\r\nTo: ann@c.example\r\nSubject: hi\r\nMessage-ID: <m1@remote.example>\r\n\r\n".to_vec();
    m.extend(std::iter::repeat_n(b'a', body_len));
    m.extend_from_slice(b"\r\n");
    m
}

fn delivery(raw: Vec<u8>, recipients: Vec<LocalRecipient>) -> Delivery {
    Delivery {
        raw,
        sender: "x@remote.example".into(),
        recipients,
        record: TransactionRecord {
            when: 1_000,
            direction: "inbound".into(),
            client_ip: "192.0.2.7".into(),
            sender: "x@remote.example".into(),
            ..TransactionRecord::default()
        },
        extra_owners: vec![],
    }
}

fn inbox(core: &Core, account: AccountId) -> Vec<(u32, mail::MessageRecord)> {
    let s = core.store();
    let inbox = mail::mailbox_by_name(s, account, "INBOX").unwrap().unwrap();
    mail::messages(s, account, inbox.id, 1, 100).unwrap()
}

#[tokio::test]
async fn one_body_for_two_recipients_and_the_record_in_the_same_write() {
    let platform = Platform::builder().mail_customer().build().await;
    let customer = platform.tenant("C");
    let Platform {
        core, dir: _dir, ..
    } = platform;
    let ann = local(&core, "ann@c.example").await;
    let bob = local(&core, "bob@c.example").await;
    let raw = message(100);
    let (results, record) = marque_delivery::deliver(
        &core,
        &marque_delivery::Environment::default(),
        delivery(raw.clone(), vec![ann.clone(), bob.clone()]),
    )
    .await
    .unwrap();
    assert_eq!(
        results,
        vec![
            RecipientResult::Delivered { uid: 1 },
            RecipientResult::Delivered { uid: 1 }
        ]
    );
    assert_eq!(record.message_id.as_deref(), Some("<m1@remote.example>"));
    let a = inbox(&core, ann.account);
    let b = inbox(&core, bob.account);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].1.blob, b[0].1.blob);
    assert_eq!(blob::references_in(core.store(), &a[0].1.blob).unwrap(), 2);
    assert_eq!(
        mail::message_body(core.store(), &a[0].1.blob)
            .unwrap()
            .unwrap(),
        raw
    );
    // The customer and the provider both read the record, found by recipient address.
    for owner in [customer, PROVIDER] {
        let page = logs::search(
            core.store(),
            &Query {
                owner,
                kind: LogKind::Transaction,
                term: Some((Term::Address, "BOB@c.example".into())),
                from_ms: 0,
                to_ms: u64::MAX,
                after: None,
                limit: 10,
            },
        )
        .unwrap();
        assert_eq!(page.entries.len(), 1);
        let r: TransactionRecord = serde_json::from_slice(&page.entries[0].body).unwrap();
        assert_eq!(r.recipients.len(), 2);
        assert!(r.recipients.iter().all(|r| r.outcome == Outcome::Delivered));
    }
}

#[tokio::test]
async fn a_recipient_over_quota_does_not_block_the_others() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().mail_customer().build().await;
    let ann = local(&core, "ann@c.example").await;
    let tiny = local(&core, "tiny@c.example").await;
    // 1.2 MB: more than tiny's 1 MiB.
    let raw = message(1_200_000);
    let (results, record) = marque_delivery::deliver(
        &core,
        &marque_delivery::Environment::default(),
        delivery(raw, vec![tiny.clone(), ann.clone()]),
    )
    .await
    .unwrap();
    assert!(
        matches!(results[0], RecipientResult::OverQuota { .. }),
        "{results:?}"
    );
    assert_eq!(results[1], RecipientResult::Delivered { uid: 1 });
    assert!(inbox(&core, tiny.account).is_empty());
    assert_eq!(inbox(&core, ann.account).len(), 1);
    assert_eq!(record.recipients[0].outcome, Outcome::Rejected);
    assert!(record.recipients[0].reason.contains("over quota"));
    // Tiny's usage did not move.
    let usage = core.usage_charges(tiny.account).await.unwrap();
    assert_eq!(
        marque_store::Reader::counter(
            core.store(),
            &marque_store::counters::key(
                usage[0].owner,
                marque_store::counters::Metric::StorageUsed
            )
        )
        .unwrap(),
        0
    );
}
