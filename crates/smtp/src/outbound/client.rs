//! The SMTP client (RFC 5321) for one connection to a remote host: greeting, EHLO (HELO when
//! EHLO is refused), STARTTLS when offered (RFC 3207, opportunistic), one mail transaction with
//! PIPELINING when offered (RFC 2920), SIZE (RFC 1870) and the DSN parameters (RFC 3461) when
//! the server takes them, the content dot-stuffed, and QUIT.
//!
//! Every command and reply is kept for the transaction record; the content is not.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

use super::tls::{TlsClient, TlsPolicy};

/// Longest reply line read (RFC 5321 §4.5.3.1.5 says 512; servers send longer text).
const MAX_LINE: usize = 4096;
/// Most lines of one reply.
const MAX_LINES: usize = 200;

/// Anything the session runs over: TCP, or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// A reply: the code and its text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// `250 2.1.5 OK` (multiline text joined with spaces).
    pub fn summary(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" "))
    }
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }
}

/// What went wrong with the connection itself (as opposed to a reply).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to {0}: {1}")]
    Connect(SocketAddr, String),
    #[error("{0}: timed out")]
    Timeout(&'static str),
    #[error("connection lost: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed reply: {0}")]
    Protocol(String),
    #[error("TLS: {0}")]
    Tls(String),
    /// `[outbound] tls = "required"` and the server offers no TLS.
    #[error("TLS required: {0}")]
    TlsRequired(String),
    /// The server refused the session before a transaction (greeting or EHLO).
    #[error("{0}")]
    Refused(String),
}

/// The session's time limits.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// For each reply (RFC 5321 §4.5.3.2 suggests minutes; one value keeps it simple).
    pub command: Duration,
    /// For the final reply after the content (RFC 5321 §4.5.3.2.6: 10 minutes).
    pub data_end: Duration,
}

/// What the server offered in EHLO.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    pub pipelining: bool,
    pub starttls: bool,
    pub dsn: bool,
    pub size: Option<u64>,
    pub eightbit: bool,
    pub smtputf8: bool,
}

impl Extensions {
    fn from_ehlo(reply: &Reply) -> Extensions {
        let mut e = Extensions::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let kw = words.next().unwrap_or("").to_ascii_uppercase();
            match kw.as_str() {
                "PIPELINING" => e.pipelining = true,
                "STARTTLS" => e.starttls = true,
                "DSN" => e.dsn = true,
                "8BITMIME" => e.eightbit = true,
                "SMTPUTF8" => e.smtputf8 = true,
                "SIZE" => e.size = words.next().and_then(|v| v.parse().ok()).filter(|v| *v > 0),
                _ => {}
            }
        }
        e
    }
}

/// The envelope of one transaction.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub sender: &'a str,
    /// `(address, RCPT parameters)`; the parameters are DSN ones, sent only when offered.
    pub recipients: Vec<(&'a str, String)>,
    /// Extra MAIL parameters (SIZE is added here when offered).
    pub mail_params: String,
    /// Extra MAIL parameters sent only when the server offers DSN.
    pub dsn_mail_params: String,
    /// The content's size, for `SIZE=`.
    pub size: u64,
}

/// The result of one transaction: the reply to each RCPT, and the reply after the content
/// (`None` when no recipient was accepted or the content was not sent).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub mail: Reply,
    pub rcpt: Vec<Reply>,
    pub data: Option<Reply>,
}

/// One open SMTP session.
pub struct Session {
    io: BufReader<Box<dyn Io>>,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub tls: bool,
    /// The negotiated TLS version (`TLSv1_3`), once TLS runs.
    pub tls_version: Option<String>,
    pub ext: Extensions,
    /// Commands and replies, for the transaction record.
    pub talk: Vec<String>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("peer", &self.peer).finish()
    }
}

impl Session {
    /// Connects from `source` (when given), reads the greeting and says EHLO; upgrades to TLS
    /// when offered, and fails when TLS is required but not offered.
    pub async fn open(
        peer: SocketAddr,
        source: Option<IpAddr>,
        ehlo: &str,
        server_name: &str,
        timeouts: Timeouts,
        tls: &TlsClient,
    ) -> Result<Session, ClientError> {
        let tcp = connect(peer, source, timeouts.connect).await?;
        let local = tcp.local_addr()?;
        let mut s = Session {
            io: BufReader::new(Box::new(tcp)),
            peer,
            local,
            tls: false,
            tls_version: None,
            ext: Extensions::default(),
            talk: Vec::new(),
            timeouts,
        };
        let greeting = s.read_reply(timeouts.command).await?;
        if greeting.code != 220 {
            return Err(ClientError::Refused(format!(
                "greeting: {}",
                greeting.summary()
            )));
        }
        s.hello(ehlo).await?;
        let required = tls.policy == TlsPolicy::Required;
        if s.ext.starttls {
            s.command("STARTTLS").await?;
            let r = s.read_reply(timeouts.command).await?;
            if r.code == 220 {
                s.start_tls(tls, server_name).await?;
                s.hello(ehlo).await?;
            } else if required {
                return Err(ClientError::TlsRequired(format!(
                    "STARTTLS refused: {}",
                    r.summary()
                )));
            }
        } else if required {
            return Err(ClientError::TlsRequired(format!(
                "{server_name} does not offer STARTTLS"
            )));
        }
        Ok(s)
    }

    async fn hello(&mut self, name: &str) -> Result<(), ClientError> {
        self.command(&format!("EHLO {name}")).await?;
        let r = self.read_reply(self.timeouts.command).await?;
        if r.code == 250 {
            self.ext = Extensions::from_ehlo(&r);
            return Ok(());
        }
        // RFC 5321 §3.2: an old server may know only HELO.
        self.command(&format!("HELO {name}")).await?;
        let r = self.read_reply(self.timeouts.command).await?;
        if r.code != 250 {
            return Err(ClientError::Refused(format!("HELO: {}", r.summary())));
        }
        self.ext = Extensions::default();
        Ok(())
    }

    async fn start_tls(&mut self, tls: &TlsClient, server_name: &str) -> Result<(), ClientError> {
        if !self.io.buffer().is_empty() {
            // RFC 3207 §4.2 forbids anything after the 220; a server that pipelines here is
            // trying to inject commands into the TLS session.
            return Err(ClientError::Protocol(
                "data after the STARTTLS reply".into(),
            ));
        }
        let plain = std::mem::replace(
            &mut self.io,
            BufReader::new(Box::new(tokio::io::duplex(1).0)),
        )
        .into_inner();
        let stream = timeout(self.timeouts.command, tls.connect(plain, server_name))
            .await
            .map_err(|_| ClientError::Timeout("TLS handshake"))?
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        let version = stream
            .get_ref()
            .1
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default();
        self.io = BufReader::new(Box::new(stream));
        self.tls = true;
        self.talk.push(format!("S: (TLS started, {version})"));
        self.tls_version = Some(version);
        Ok(())
    }

    /// Runs one mail transaction. With PIPELINING, MAIL, every RCPT and DATA go in one write.
    pub async fn send(&mut self, env: &Envelope<'_>, body: &[u8]) -> Result<Outcome, ClientError> {
        let mut mail = format!("MAIL FROM:<{}>", env.sender);
        if self.ext.size.is_some() {
            mail.push_str(&format!(" SIZE={}", env.size));
        }
        mail.push_str(&env.mail_params);
        if self.ext.dsn {
            mail.push_str(&env.dsn_mail_params);
        }
        let rcpts: Vec<String> = env
            .recipients
            .iter()
            .map(|(a, p)| {
                if self.ext.dsn {
                    format!("RCPT TO:<{a}>{p}")
                } else {
                    format!("RCPT TO:<{a}>")
                }
            })
            .collect();
        let t = self.timeouts.command;
        let (mail_reply, rcpt_replies, data_reply) = if self.ext.pipelining {
            let mut batch = vec![mail.clone()];
            batch.extend(rcpts.iter().cloned());
            batch.push("DATA".into());
            self.commands(&batch).await?;
            let m = self.read_reply(t).await?;
            let mut rs = Vec::with_capacity(rcpts.len());
            for _ in &rcpts {
                rs.push(self.read_reply(t).await?);
            }
            let d = self.read_reply(t).await?;
            (m, rs, Some(d))
        } else {
            self.command(&mail).await?;
            let m = self.read_reply(t).await?;
            let mut rs = Vec::new();
            if m.is_positive() {
                for r in &rcpts {
                    self.command(r).await?;
                    rs.push(self.read_reply(t).await?);
                }
            }
            let d = if rs.iter().any(Reply::is_positive) {
                self.command("DATA").await?;
                Some(self.read_reply(t).await?)
            } else {
                None
            };
            (m, rs, d)
        };
        let mut rcpt_replies = rcpt_replies;
        if !mail_reply.is_positive() {
            // Every recipient shares the fate of MAIL.
            rcpt_replies = vec![mail_reply.clone(); rcpts.len()];
        }
        let accepted = rcpt_replies.iter().any(Reply::is_positive);
        let data = match data_reply {
            Some(d) if d.code == 354 && accepted => {
                self.content(body).await?;
                Some(self.read_reply(self.timeouts.data_end).await?)
            }
            Some(d) if d.code == 354 => {
                // RFC 2920 §3.1: DATA was accepted though no recipient was; send an empty
                // message terminated at once, and let the server refuse it.
                self.write_raw(b".\r\n").await?;
                let _ = self.read_reply(self.timeouts.data_end).await?;
                None
            }
            Some(d) if accepted => Some(d),
            _ => None,
        };
        Ok(Outcome {
            mail: mail_reply,
            rcpt: rcpt_replies,
            data,
        })
    }

    /// Ends the session politely; errors are of no interest any more.
    pub async fn quit(mut self) -> Vec<String> {
        if self.command("QUIT").await.is_ok() {
            let _ = self.read_reply(self.timeouts.command).await;
        }
        let _ = self.io.get_mut().shutdown().await;
        self.talk
    }

    async fn content(&mut self, body: &[u8]) -> Result<(), ClientError> {
        self.talk.push("C: (message content)".into());
        let stuffed = dot_stuff(body);
        let w = self.io.get_mut();
        timeout(self.timeouts.data_end, async {
            w.write_all(&stuffed).await?;
            w.write_all(b".\r\n").await?;
            w.flush().await
        })
        .await
        .map_err(|_| ClientError::Timeout("sending the content"))??;
        Ok(())
    }

    async fn command(&mut self, line: &str) -> Result<(), ClientError> {
        self.commands(&[line.to_string()]).await
    }

    async fn commands(&mut self, lines: &[String]) -> Result<(), ClientError> {
        let mut out = Vec::new();
        for l in lines {
            self.talk.push(format!("C: {l}"));
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self.write_raw(&out).await
    }

    async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let w = self.io.get_mut();
        timeout(self.timeouts.command, async {
            w.write_all(bytes).await?;
            w.flush().await
        })
        .await
        .map_err(|_| ClientError::Timeout("sending a command"))??;
        Ok(())
    }

    /// Reads one reply, bounded in line length and line count.
    async fn read_reply(&mut self, limit: Duration) -> Result<Reply, ClientError> {
        let mut lines = Vec::new();
        loop {
            let mut buf = Vec::new();
            let n = timeout(limit, read_line(&mut self.io, &mut buf))
                .await
                .map_err(|_| ClientError::Timeout("waiting for a reply"))??;
            if n == 0 {
                return Err(ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            let text = String::from_utf8_lossy(&buf);
            let line = text.trim_end_matches(['\r', '\n']);
            self.talk.push(format!("S: {line}"));
            let bytes = line.as_bytes();
            if bytes.len() < 3 || !bytes[..3].iter().all(u8::is_ascii_digit) {
                return Err(ClientError::Protocol(line.chars().take(100).collect()));
            }
            let code: u16 = line[..3]
                .parse()
                .map_err(|_| ClientError::Protocol(line.chars().take(100).collect()))?;
            let more = bytes.get(3) == Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if !more {
                return Ok(Reply { code, lines });
            }
            if lines.len() >= MAX_LINES {
                return Err(ClientError::Protocol("reply too long".into()));
            }
        }
    }
}

/// Reads up to and including LF, at most [`MAX_LINE`] bytes.
async fn read_line(r: &mut BufReader<Box<dyn Io>>, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(buf.len());
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if buf.len() + take > MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "reply line too long",
            ));
        }
        buf.extend_from_slice(&available[..take]);
        r.consume(take);
        if done {
            return Ok(buf.len());
        }
    }
}

async fn connect(
    peer: SocketAddr,
    source: Option<IpAddr>,
    limit: Duration,
) -> Result<TcpStream, ClientError> {
    let err = |e: std::io::Error| ClientError::Connect(peer, e.to_string());
    let socket = if peer.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    if let Some(ip) = source {
        // A dedicated source address: the remote side and its SPF see this one.
        if ip.is_ipv4() == peer.is_ipv4() {
            socket
                .bind(SocketAddr::new(ip, 0))
                .map_err(|e| ClientError::Connect(peer, format!("binding to {ip}: {e}")))?;
        }
    }
    timeout(limit, socket.connect(peer))
        .await
        .map_err(|_| ClientError::Timeout("connecting"))?
        .map_err(err)
}

/// The content as it goes on the wire after DATA, whatever the stored bytes are: NUL
/// characters dropped, every bare CR and bare LF turned into CRLF (RFC 5321 §2.3.8), a leading
/// dot doubled on every line (§4.5.2), and a final CRLF. What comes out has no line end but
/// CRLF and no line that is a lone dot, so that the `.` CRLF the caller adds is the only end of
/// data a peer can see (the SMTP smuggling class: a `\0.` or `\r.\r` line read as the end).
pub fn dot_stuff(body: &[u8]) -> Vec<u8> {
    let no_nul: std::borrow::Cow<'_, [u8]> = if body.contains(&0) {
        body.iter()
            .copied()
            .filter(|&b| b != 0)
            .collect::<Vec<u8>>()
            .into()
    } else {
        body.into()
    };
    let lines = marque_store::mail::messages::crlf(&no_nul);
    let mut out = Vec::with_capacity(lines.len() + lines.len() / 50 + 2);
    let mut at_line_start = true;
    for &b in lines.iter() {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_doubled_and_lines_end_in_crlf() {
        assert_eq!(
            dot_stuff(b"a\r\n.b\r\n..c\n."),
            b"a\r\n..b\r\n...c\r\n..\r\n"
        );
        assert_eq!(dot_stuff(b".\r\n"), b"..\r\n");
        assert_eq!(dot_stuff(b"x"), b"x\r\n");
    }

    #[test]
    fn nul_bare_cr_and_bare_lf_never_make_an_end_of_data() {
        assert_eq!(
            dot_stuff(b"a\r\n\0.\r\nb\r.\rc\n.\nd\r\n"),
            b"a\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n"
        );
        assert_eq!(dot_stuff(b"\0"), b"\r\n");
        // Whatever goes in, every CR is followed by LF, every LF follows a CR, and no line is
        // a lone dot.
        let mut all = Vec::new();
        for a in [0u8, b'\r', b'\n', b'.', b'x'] {
            for b in [0u8, b'\r', b'\n', b'.', b'x'] {
                for c in [0u8, b'\r', b'\n', b'.', b'x'] {
                    all.push(vec![a, b, c, b'.', a, b, c]);
                }
            }
        }
        for input in all {
            let out = dot_stuff(&input);
            assert!(!out.contains(&0), "{input:?}");
            for (i, &b) in out.iter().enumerate() {
                if b == b'\r' {
                    assert_eq!(out.get(i + 1), Some(&b'\n'), "{input:?} -> {out:?}");
                }
                if b == b'\n' {
                    assert!(i > 0 && out[i - 1] == b'\r', "{input:?} -> {out:?}");
                }
            }
            let text = [b"\r\n".as_slice(), &out].concat();
            assert!(
                !text.windows(5).any(|w| w == b"\r\n.\r\n"),
                "{input:?} -> {out:?}"
            );
        }
    }

    #[test]
    fn extensions_from_ehlo() {
        let r = Reply {
            code: 250,
            lines: vec![
                "mx.example".into(),
                "PIPELINING".into(),
                "SIZE 1000".into(),
                "dsn".into(),
                "STARTTLS".into(),
            ],
        };
        let e = Extensions::from_ehlo(&r);
        assert!(e.pipelining && e.dsn && e.starttls);
        assert_eq!(e.size, Some(1000));
    }
}
