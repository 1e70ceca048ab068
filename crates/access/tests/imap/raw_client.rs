//! A byte-exact IMAP client for tests that check responses to the octet: it sends command
//! lines (and literals after the server's continuation), and reads responses whole, literals
//! included, however many lines they span.

#![allow(dead_code)]

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub struct Raw {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

/// The size of the literal a response line announces at its end (`{n}` or `~{n}`).
fn literal_at_end(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}\r\n")?;
    let open = body.iter().rposition(|&c| c == b'{')?;
    std::str::from_utf8(&body[open + 1..]).ok()?.parse().ok()
}

impl Raw {
    /// Connects and reads the greeting.
    pub async fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let (r, w) = s.into_split();
        let mut c = Raw {
            r: BufReader::new(r),
            w,
        };
        let greeting = c.response().await;
        assert!(greeting.starts_with(b"* OK"), "{greeting:?}");
        c
    }

    /// One response: a line, and for each literal it announces, the literal and the rest.
    pub async fn response(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            let n =
                tokio::time::timeout(Duration::from_secs(30), self.r.read_until(b'\n', &mut line))
                    .await
                    .expect("answer in time")
                    .expect("read");
            assert!(
                n > 0,
                "connection closed after {:?}",
                String::from_utf8_lossy(&out)
            );
            out.extend_from_slice(&line);
            match literal_at_end(&line) {
                Some(len) => {
                    let mut lit = vec![0; len];
                    self.r.read_exact(&mut lit).await.expect("literal");
                    out.extend_from_slice(&lit);
                }
                None => return out,
            }
        }
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.expect("write");
    }

    /// Sends `tag command` and returns every response up to the tagged one (included).
    pub async fn run(&mut self, tag: &str, command: &str) -> Vec<Vec<u8>> {
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until(tag).await
    }

    /// Reads responses up to the tagged one of `tag`.
    pub async fn until(&mut self, tag: &str) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        loop {
            let r = self.response().await;
            let done = r.starts_with(format!("{tag} ").as_bytes());
            got.push(r);
            if done {
                return got;
            }
        }
    }

    /// Like [`Raw::run`], as text, and asserting the tagged answer is `OK`.
    pub async fn ok(&mut self, tag: &str, command: &str) -> Vec<String> {
        let got = self.run(tag, command).await;
        let text: Vec<String> = got
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect();
        assert!(
            text.last()
                .is_some_and(|l| l.starts_with(&format!("{tag} OK"))),
            "{command}: {text:#?}"
        );
        text
    }

    /// APPENDs `message` to `mailbox` with a synchronising literal (`~{n}` when `binary`),
    /// returning the tagged answer.
    pub async fn append(
        &mut self,
        tag: &str,
        mailbox: &str,
        message: &[u8],
        binary: bool,
    ) -> String {
        let marker = if binary { "~" } else { "" };
        self.send(format!("{tag} APPEND {mailbox} {marker}{{{}}}\r\n", message.len()).as_bytes())
            .await;
        let cont = self.response().await;
        assert!(
            cont.starts_with(b"+"),
            "{:?}",
            String::from_utf8_lossy(&cont)
        );
        self.send(message).await;
        self.send(b"\r\n").await;
        let got = self.until(tag).await;
        String::from_utf8_lossy(got.last().expect("tagged")).into_owned()
    }

    /// Signs in.
    pub async fn login(&mut self, user: &str, password: &str) {
        self.ok("l", &format!("LOGIN {user} \"{password}\"")).await;
    }
}

/// The one untagged FETCH response among `responses`, as bytes.
pub fn fetched(responses: &[Vec<u8>]) -> Vec<u8> {
    let f: Vec<&Vec<u8>> = responses
        .iter()
        .filter(|r| r.starts_with(b"* ") && r.windows(7).any(|w| w == b" FETCH "))
        .collect();
    assert_eq!(f.len(), 1, "{responses:?}");
    f[0].clone()
}
