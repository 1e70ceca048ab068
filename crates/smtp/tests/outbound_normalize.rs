//! What leaves for the next hop is well-formed CRLF text, dot-stuffed, with one end of data,
//! whatever the client sent (RFC 5321 §2.3.8, §4.5.2; the SMTP smuggling class). A raw sink on
//! 127.0.0.2 keeps the exact bytes it received after `354`, compared byte for byte.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::remote::{a, dns, mx, queue_len, until, workers};
use common::{PASSWORD, python, start};
use marque_core::Actor;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An SMTP server that accepts everything and keeps each message's bytes as sent: everything
/// after the `354` up to and including the first CRLF `.` CRLF.
async fn sink() -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = TcpListener::bind(("127.0.0.2", 0))
        .await
        .expect("bind sink");
    let addr = l.local_addr().expect("addr");
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = tcp.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 sink.remote.test ESMTP\r\n").await;
                loop {
                    let mut line = Vec::new();
                    if r.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = String::from_utf8_lossy(&line)
                        .trim_end()
                        .to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-sink.remote.test\r\n250 PIPELINING\r\n"
                    } else if cmd == "DATA" {
                        let _ = w.write_all(b"354 go ahead\r\n").await;
                        let mut data = Vec::new();
                        let mut byte = [0u8; 1];
                        while !(data == b".\r\n" || data.ends_with(b"\r\n.\r\n")) {
                            if r.read_exact(&mut byte).await.is_err() {
                                return;
                            }
                            data.push(byte[0]);
                        }
                        g.lock().unwrap().push(data);
                        b"250 2.0.0 ok\r\n"
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (addr, got)
}

/// Every CR is followed by LF and every LF follows a CR; the only lone-dot line is the last.
fn assert_well_formed(data: &[u8]) {
    for (i, &b) in data.iter().enumerate() {
        if b == b'\r' {
            assert_eq!(data.get(i + 1), Some(&b'\n'), "bare CR at {i}: {data:?}");
        }
        if b == b'\n' {
            assert!(i > 0 && data[i - 1] == b'\r', "bare LF at {i}: {data:?}");
        }
    }
    assert!(!data.contains(&0), "NUL: {data:?}");
    let with_start = [b"\r\n".as_slice(), data].concat();
    let ends = with_start.windows(5).filter(|w| *w == b"\r\n.\r\n").count();
    assert_eq!(
        ends,
        1,
        "one end of data: {:?}",
        String::from_utf8_lossy(data)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_bare_cr_and_lf_leave_as_crlf_and_nul_is_refused() {
    let s = start().await;
    let (addr, got) = sink().await;
    let dns = dns(vec![
        ("remote.test.", mx("mx.remote.test.")),
        ("mx.remote.test.", a([127, 0, 0, 2])),
    ])
    .await;
    let _w = workers(&s.core, dns, addr.port());
    let out = python(
        s.submission.port(),
        &format!(
            r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
expect(c.login("ann@c.example", "{PASSWORD}"), 235)
def send(body):
    expect(c.mail("ann@c.example"), 250)
    expect(c.rcpt("zoe@remote.test"), 250)
    c.putcmd("data")
    expect(c.getreply(), 354)
    # As written: smtplib's data() would fix the line ends itself.
    c.sock.sendall(body + b"\r\n.\r\n")
    return c.getreply()
expect(send(b"Subject: bare\r\nMessage-ID: <n1@c.example>\r\n\r\nline1\n.\nline2\r.\rline3\r\n..dot\r\nend"), 250)
code, text = send(b"Subject: nul\r\n\r\na\r\n\0.\r\nb")
print("NUL", code, text.decode())
c.quit()
"#
        ),
    )
    .await;
    assert!(out.contains("NUL 554 5.6.0"), "{out}");
    until("delivery", async || {
        !got.lock().unwrap().is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "the message with NUL was not queued");
    let data = &got[0];
    assert_well_formed(data);
    let text = String::from_utf8_lossy(data);
    let tail: &[u8] = b"Subject: bare\r\nMessage-ID: <n1@c.example>\r\n\r\n\
        line1\r\n..\r\nline2\r\n..\r\nline3\r\n..dot\r\nend\r\n.\r\n";
    assert!(data.ends_with(tail), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_dot_line_received_on_port_25_is_forwarded_dot_stuffed_without_the_nul() {
    let s = start().await;
    s.core
        .create_alias(
            &Actor::operator(),
            "out@c.example",
            &["zoe@remote.test".into()],
        )
        .await
        .expect("alias");
    let (addr, got) = sink().await;
    let dns = dns(vec![
        ("remote.test.", mx("mx.remote.test.")),
        ("mx.remote.test.", a([127, 0, 0, 2])),
    ])
    .await;
    let _w = workers(&s.core, dns, addr.port());
    let out = python(
        s.smtp.port(),
        r#"
out = raw(
    b"EHLO client.example\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<out@c.example>\r\nDATA\r\n"
    b"Subject: nul\r\n\r\na\r\n\0.\r\nb\r.\rc\n.\nd\r\n.\r\nQUIT\r\n",
    wait_for=b"221 ",
)
print(out)
"#,
    )
    .await;
    assert!(out.contains("queued as"), "{out}");
    until("delivery", async || {
        !got.lock().unwrap().is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let data = &got[0];
    assert_well_formed(data);
    let tail: &[u8] = b"Subject: nul\r\n\r\na\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n.\r\n";
    assert!(data.ends_with(tail), "{:?}", String::from_utf8_lossy(data));
}
