//! Hourly submission limits are counted in the store: every SMTP server on the same data
//! counts against one limit, and the counts outlive the store being closed and reopened.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{PASSWORD, inbox, python, start_with, test_config};
use marque_smtp::submission_limits::{Limits, RateLimits, Taken};
use marque_smtp::{Config, Smtp};
use marque_store::{Store, StoreOptions, now_ms};
use marque_tests::{Offer, Services, TestCert};

fn limited(messages: u32, recipients: u32) -> Config {
    let mut c = test_config();
    c.submission_limits = Limits {
        max_messages_per_hour: messages,
        max_recipients_per_hour: recipients,
    };
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_store_count_against_one_limit() {
    let a = start_with(limited(3, 4)).await;
    // A second SMTP handler over the same store, built as another process builds its own:
    // its own resolver, its own listener, nothing shared with the first but the data.
    let dns = common::dns::serve(vec![common::dns::Zone::new("test.invalid")]).await;
    let mut config = limited(3, 4);
    config.nameservers = vec![dns.addr];
    let services = Services::new(Duration::from_secs(5));
    let b = services
        .listen(
            "submission",
            Offer::StartTls(TestCert::new().config),
            Arc::new(Smtp::new(&a.core, config)),
        )
        .await;
    let script = format!(
        r#"
OTHER = {other}
PASSWORD = "{PASSWORD}"
def login(port, user):
    c = smtplib.SMTP("127.0.0.1", port)
    c.starttls(context=CTX)
    c.ehlo("client.example")
    expect(c.login(user, PASSWORD), 235)
    return c
def send(port):
    c = login(port, "ann@c.example")
    expect(c.mail("ann@c.example"), 250)
    expect(c.rcpt("bob@c.example"), 250)
    expect(c.data("From: <ann@c.example>\r\nSubject: n\r\n\r\nhi\r\n"), 250)
    c.quit()
send(PORT)
send(OTHER)
# A transaction that ends without a message gives its place back.
c = login(OTHER, "ann@c.example")
expect(c.mail("ann@c.example"), 250)
expect(c.rset(), 250)
c.quit()
send(PORT)
# Three messages in the hour, through two servers: each refuses a fourth.
for port in (PORT, OTHER):
    c = login(port, "ann@c.example")
    expect(c.mail("ann@c.example"), 451, "4.7.1")
    c.quit()
# Recipients too: two through each server, then the fifth is refused by both.
for port in (PORT, OTHER):
    c = login(port, "bob@c.example")
    expect(c.mail("bob@c.example"), 250)
    expect(c.rcpt("ann@c.example"), 250)
    expect(c.rcpt("team@c.example"), 250)
    c.quit()
for port in (PORT, OTHER):
    c = login(port, "bob@c.example")
    expect(c.mail("bob@c.example"), 250)
    expect(c.rcpt("ann@c.example"), 451, "4.7.1")
    c.quit()
"#,
        other = b.port()
    );
    python(a.submission.port(), &script).await;
    assert_eq!(inbox(&a.core, "bob@c.example").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_survive_reopening_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store");
    let limits = Limits {
        max_messages_per_hour: 2,
        max_recipients_per_hour: 2,
    };
    let now = now_ms();
    {
        let store = Store::open(&path, StoreOptions::default()).expect("open");
        let r = RateLimits::new(store, limits);
        for _ in 0..2 {
            assert!(matches!(
                r.take_message("ann@c.example", now).await,
                Ok(Taken::Counted(_))
            ));
            assert!(r.take_recipient("ann@c.example", now).await.expect("take"));
        }
    }
    let store = Store::open(&path, StoreOptions::default()).expect("reopen");
    let r = RateLimits::new(store, limits);
    assert_eq!(
        r.take_message("ann@c.example", now + 1_000)
            .await
            .expect("take"),
        Taken::OverLimit
    );
    assert!(
        !r.take_recipient("ann@c.example", now + 1_000)
            .await
            .expect("take")
    );
    // An hour later the counts have left the window.
    let later = now + 3_600_000 + 60_000;
    assert!(matches!(
        r.take_message("ann@c.example", later).await,
        Ok(Taken::Counted(_))
    ));
    assert!(
        r.take_recipient("ann@c.example", later)
            .await
            .expect("take")
    );
}
