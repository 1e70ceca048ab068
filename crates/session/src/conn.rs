//! One accepted connection: its stream (plain or TLS) and what the session needs to know about it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::limits::Permit;
use super::shutdown::ShutdownSignal;
use super::tls::TlsConfig;

/// The byte stream of a connection: plain TCP, or TLS over TCP.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS, from an implicit-TLS listener or after STARTTLS.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// What is known of an accepted socket before its stream is ready.
#[derive(Debug)]
pub(super) struct Meta {
    pub(super) peer: SocketAddr,
    pub(super) local: SocketAddr,
    pub(super) session_id: u64,
    pub(super) service: Arc<str>,
    pub(super) shutdown: ShutdownSignal,
    pub(super) starttls: Option<TlsConfig>,
    pub(super) handshake_timeout: Duration,
}

impl Meta {
    pub(super) fn into_connection(self, stream: Stream, permit: Option<Permit>) -> Connection {
        Connection {
            stream,
            peer: self.peer,
            local: self.local,
            session_id: self.session_id,
            service: self.service,
            shutdown: self.shutdown,
            starttls: self.starttls,
            handshake_timeout: self.handshake_timeout,
            server_name: None,
            _permit: permit,
        }
    }
}

/// An accepted connection, handed to [`super::Handler::handle`]. It reads and writes like a
/// stream; it also knows its peer, its listener's service name, its session id, and how to
/// upgrade to TLS.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    peer: SocketAddr,
    local: SocketAddr,
    session_id: u64,
    service: Arc<str>,
    shutdown: ShutdownSignal,
    starttls: Option<TlsConfig>,
    /// How long the client has to finish the STARTTLS handshake.
    handshake_timeout: Duration,
    /// The SNI name of the TLS handshake, when the platform serves that name.
    server_name: Option<String>,
    _permit: Option<Permit>,
}

impl Connection {
    /// The hostname the client asked for by SNI, when the platform serves it (a stored
    /// certificate or a branded hostname covers it); `None` on a plain connection, without
    /// SNI, or for a name the platform does not serve. Greetings name it instead of the
    /// configured hostname, so that a branded client never sees another tenant's name.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    pub(super) fn set_server_name(&mut self, name: Option<String>) {
        self.server_name = name;
    }

    /// The remote address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The local address the client connected to.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The id of this session in logs.
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The listener's service name (`smtp`, `imaps`, ...).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Whether [`Connection::starttls`] can be offered: the stream is plain and the listener
    /// has a certificate.
    pub fn can_starttls(&self) -> bool {
        !self.is_tls() && self.starttls.is_some()
    }

    /// A signal that fires when the server starts shutting down; a session finishes the command
    /// it is in, says goodbye in its protocol and returns.
    pub fn shutdown_signal(&self) -> ShutdownSignal {
        self.shutdown.clone()
    }

    /// The stream itself.
    pub fn stream(&mut self) -> &mut Stream {
        &mut self.stream
    }

    /// Upgrades a plain connection to TLS (STARTTLS: RFC 3207, RFC 9051 §6.2.1, RFC 2595 §4,
    /// RFC 5804 §2.2), the one way every protocol does it. A client that does not finish the
    /// handshake within the listener's [`super::Listener::handshake_timeout`] gets an error
    /// of kind [`io::ErrorKind::TimedOut`], and the session ends.
    ///
    /// The caller must have discarded anything it buffered from the plain stream before the
    /// upgrade, so that plaintext injected after the command is never read as if it were
    /// protected (RFC 3207 §4.2 and the 2011 STARTTLS command-injection bugs).
    pub async fn starttls(self) -> io::Result<Connection> {
        let Connection {
            stream,
            peer,
            local,
            session_id,
            service,
            shutdown,
            starttls,
            handshake_timeout,
            server_name: _,
            _permit,
        } = self;
        let tcp = match stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(_) => return Err(io::Error::other("the connection is already TLS")),
        };
        let config = starttls
            .clone()
            .ok_or_else(|| io::Error::other("no certificate for STARTTLS"))?;
        let accepted = tokio::time::timeout(handshake_timeout, config.accept(tcp))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??
            .ok_or_else(|| io::Error::other("an ACME validation handshake after STARTTLS"))?;
        Ok(Connection {
            stream: Stream::Tls(Box::new(accepted.stream)),
            server_name: accepted.server_name,
            peer,
            local,
            session_id,
            service,
            shutdown,
            starttls,
            handshake_timeout,
            _permit,
        })
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
