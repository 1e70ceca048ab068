//! Message content beyond a few hundred KiB waits on disk while it arrives and comes back
//! whole; checking and storing it takes room from the process-wide input budget, and with no
//! room the sender is told to try again later (`451 4.3.2`) and nothing is stored.

mod common;

use std::time::Duration;

use common::{inbox, python, start_with, test_config, transactions};
use marque_delivery::Outcome;
use marque_session::InputBudget;

/// The test limits with 8 MiB messages and a budget of `budget` bytes that waits 200 ms.
fn config(budget: u64) -> marque_smtp::Config {
    let mut c = test_config();
    c.max_message_size = 8 * 1024 * 1024;
    c.input_budget = InputBudget::new(budget, Duration::from_millis(200));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_message_is_spooled_and_stored_byte_for_byte_by_data_and_bdat() {
    let s = start_with(config(64 * 1024 * 1024)).await;
    python(
        s.smtp.port(),
        r#"
import hashlib
body = b"".join(b"line %07d %s\r\n" % (i, b"x" * (i % 61)) for i in range(60000))
msg = b"Subject: spooled\r\n\r\n" + body
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data(msg), 250)
c.quit()
# The same by BDAT in uneven chunks, the last one empty.
chunks = [msg[:100000], msg[100000:2500001], msg[2500001:]]
data = b"EHLO client.example\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<bob@c.example>\r\n"
for ch in chunks:
    data += b"BDAT %d\r\n" % len(ch) + ch
data += b"BDAT 0 LAST\r\nQUIT\r\n"
out = raw(data)
assert "250 2.0.0 OK: queued as" in out, out
print(hashlib.sha256(msg).hexdigest(), len(msg))
"#,
    )
    .await;
    let mut expected = b"Subject: spooled\r\n\r\n".to_vec();
    for i in 0..60000 {
        expected.extend_from_slice(format!("line {i:07} {}\r\n", "x".repeat(i % 61)).as_bytes());
    }
    assert!(expected.len() > 2_600_000);
    for who in ["ann@c.example", "bob@c.example"] {
        let got = inbox(&s.core, who).await;
        assert_eq!(got.len(), 1, "{who}");
        // Trace headers first, then the message exactly as sent.
        assert!(got[0].1.ends_with(&expected), "{who}: content differs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_room_in_the_budget_defers_the_message_and_stores_nothing() {
    // 1 MiB of budget: a message takes twice its size, so 600 KB cannot be taken, 300 KB can.
    let s = start_with(config(1024 * 1024)).await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: too big for now\r\n\r\n" + ("y" * 98 + "\r\n") * 6000), 451, "4.3.2")
# The session goes on: a smaller message fits.
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: fits\r\n\r\n" + ("y" * 98 + "\r\n") * 3000), 250)
c.quit()
"#,
    )
    .await;
    let got = inbox(&s.core, "ann@c.example").await;
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .1
            .windows(b"Subject: fits".len())
            .any(|w| w == b"Subject: fits")
    );
    let records = transactions(&s.core, s.customer, "ann@c.example");
    assert!(
        records.iter().any(|r| r
            .recipients
            .iter()
            .any(|x| x.outcome == Outcome::Deferred && x.reason == "server busy")),
        "{records:?}"
    );
}
