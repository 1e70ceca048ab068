//! A small IMAP client for load generation: tagged commands, literals in answers skipped
//! without keeping them, IDLE, APPEND with a non-synchronising literal (LITERAL+, which both
//! servers announce). Only what the benchmark sends; not a general client.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Longest a single answer may take before the benchmark gives up on the server.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// One connection.
pub struct Client {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
    tag: u32,
    line: Vec<u8>,
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

/// The `{n}` (or `{n+}`) literal announced at the end of a line, if any.
fn literal(line: &[u8]) -> Option<usize> {
    let l = line.strip_suffix(b"\r\n").unwrap_or(line);
    let l = l.strip_suffix(b"}")?;
    let open = l.iter().rposition(|&b| b == b'{')?;
    let n = l[open + 1..].strip_suffix(b"+").unwrap_or(&l[open + 1..]);
    std::str::from_utf8(n).ok()?.parse().ok()
}

impl Client {
    /// Connects to 127.0.0.1:`port` and reads the greeting.
    pub async fn connect(port: u16) -> io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        let mut c = Client {
            r: BufReader::with_capacity(16 * 1024, r),
            w,
            tag: 0,
            line: Vec::with_capacity(256),
        };
        c.read_line().await?;
        if !c.line.starts_with(b"* OK") {
            return Err(bad(format!(
                "greeting: {}",
                String::from_utf8_lossy(&c.line)
            )));
        }
        Ok(c)
    }

    async fn read_line(&mut self) -> io::Result<()> {
        self.line.clear();
        let n = tokio::time::timeout(ANSWER_TIMEOUT, self.r.read_until(b'\n', &mut self.line))
            .await
            .map_err(|_| bad("no answer in time"))??;
        if n == 0 {
            return Err(bad("connection closed"));
        }
        Ok(())
    }

    /// Reads answers up to the tagged one for `tag`, skipping literals; returns the tagged
    /// line. Anything but OK is an error.
    async fn finish(&mut self, tag: &str) -> io::Result<String> {
        loop {
            self.read_line().await?;
            let mut at_literal = literal(&self.line);
            while let Some(n) = at_literal {
                let mut left = n as u64;
                let mut sink = tokio::io::sink();
                let copied = tokio::io::copy(&mut (&mut self.r).take(left), &mut sink).await?;
                left -= copied;
                if left != 0 {
                    return Err(bad("connection closed inside a literal"));
                }
                self.read_line().await?;
                at_literal = literal(&self.line);
            }
            if self.line.starts_with(tag.as_bytes()) && self.line.get(tag.len()) == Some(&b' ') {
                let text = String::from_utf8_lossy(&self.line).trim_end().to_string();
                if text[tag.len() + 1..].starts_with("OK") {
                    return Ok(text);
                }
                return Err(bad(format!("command failed: {text}")));
            }
        }
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("b{}", self.tag)
    }

    /// Sends one command line and waits for its OK.
    pub async fn cmd(&mut self, text: &str) -> io::Result<String> {
        let tag = self.next_tag();
        self.w
            .write_all(format!("{tag} {text}\r\n").as_bytes())
            .await?;
        self.finish(&tag).await
    }

    /// APPENDs `msg` to `mailbox`; returns the UID from APPENDUID (RFC 4315).
    pub async fn append(&mut self, mailbox: &str, msg: &[u8]) -> io::Result<Option<u32>> {
        let tag = self.next_tag();
        let mut out = format!("{tag} APPEND {mailbox} {{{}+}}\r\n", msg.len()).into_bytes();
        out.extend_from_slice(msg);
        out.extend_from_slice(b"\r\n");
        self.w.write_all(&out).await?;
        let ok = self.finish(&tag).await?;
        Ok(ok
            .split("APPENDUID ")
            .nth(1)
            .and_then(|r| r.split([' ', ']']).nth(1))
            .and_then(|u| u.parse().ok()))
    }

    /// Starts IDLE and waits for the continuation.
    pub async fn idle_start(&mut self) -> io::Result<String> {
        let tag = self.next_tag();
        self.w
            .write_all(format!("{tag} IDLE\r\n").as_bytes())
            .await?;
        loop {
            self.read_line().await?;
            if self.line.starts_with(b"+") {
                return Ok(tag);
            }
            if self.line.starts_with(tag.as_bytes()) {
                return Err(bad(format!(
                    "IDLE refused: {}",
                    String::from_utf8_lossy(&self.line)
                )));
            }
        }
    }

    /// Ends IDLE started under `tag`.
    pub async fn idle_done(&mut self, tag: &str) -> io::Result<()> {
        self.w.write_all(b"DONE\r\n").await?;
        self.finish(tag).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn literals() {
        assert_eq!(super::literal(b"* 1 FETCH (BODY[] {120}\r\n"), Some(120));
        assert_eq!(super::literal(b"a APPEND x {7+}\r\n"), Some(7));
        assert_eq!(super::literal(b"* OK {x}\r\n"), None);
        assert_eq!(super::literal(b"* OK done\r\n"), None);
    }
}
