//! Listeners, the [`Handler`] trait and the accept loop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tracing::{Instrument, debug, info, info_span, warn};

use super::conn::{Connection, Meta, Stream};
use super::limits::{Limits, Permit, Refusal, Tracker};
use super::proxy::ProxyProtocol;
use super::shutdown::ShutdownSignal;
use super::tls::TlsConfig;

/// How long a client has by default to finish a TLS handshake, on an implicit-TLS listener or
/// after STARTTLS ([`Listener::handshake_timeout`]).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a refusal may take to be written before the socket is dropped.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);

/// What a protocol implements: serve one connection until it ends.
pub trait Handler: Send + Sync + 'static {
    /// Runs one session. The connection is closed when the future returns.
    fn handle(&self, conn: Connection) -> impl Future<Output = ()> + Send;

    /// Answers a client that is over a connection limit (SMTP says `421`, IMAP says `BYE`).
    /// Called only on plain listeners; on implicit-TLS listeners the socket is closed. The
    /// default closes at once.
    fn refuse(&self, conn: Connection, why: Refusal) -> impl Future<Output = ()> + Send {
        let _ = why;
        async move { drop(conn) }
    }
}

/// A bound listener with its service name, its TLS settings and its limits.
#[derive(Debug)]
pub struct Listener {
    service: Arc<str>,
    tcp: TcpListener,
    implicit_tls: Option<TlsConfig>,
    starttls: Option<TlsConfig>,
    handshake_timeout: Duration,
    limits: Limits,
    proxy: Option<ProxyProtocol>,
}

impl Listener {
    /// Wraps an already bound socket (tests bind `127.0.0.1:0`).
    pub fn new(service: &str, tcp: TcpListener) -> Listener {
        Listener {
            service: Arc::from(service),
            tcp,
            implicit_tls: None,
            starttls: None,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            limits: Limits::default(),
            proxy: None,
        }
    }

    /// Every connection must start with a PROXY protocol header from one of the trusted
    /// balancers ([`crate::proxy`]); the client it names becomes the connection's peer.
    pub fn proxy_protocol(mut self, proxy: ProxyProtocol) -> Listener {
        self.proxy = Some(proxy);
        self
    }

    /// Every connection starts with a TLS handshake (ports 465, 993, 995, 443).
    pub fn implicit_tls(mut self, tls: TlsConfig) -> Listener {
        self.implicit_tls = Some(tls);
        self
    }

    /// Plain connections may upgrade with [`Connection::starttls`].
    pub fn starttls(mut self, tls: TlsConfig) -> Listener {
        self.starttls = Some(tls);
        self
    }

    /// How long a client has to finish a TLS handshake, implicit or after STARTTLS, before the
    /// connection is closed (default [`HANDSHAKE_TIMEOUT`]).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Listener {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets the connection limits.
    pub fn limits(mut self, limits: Limits) -> Listener {
        self.limits = limits;
        self
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

fn next_session_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Accepts connections on `listener` and runs `handler` on each until `shutdown` fires; then
/// stops accepting, gives open sessions `grace` to finish, aborts the rest and returns.
pub async fn serve<H: Handler>(
    listener: Listener,
    handler: Arc<H>,
    mut shutdown: ShutdownSignal,
    grace: Duration,
) {
    let Listener {
        service,
        tcp,
        implicit_tls,
        starttls,
        handshake_timeout,
        limits,
        proxy,
    } = listener;
    let local = tcp.local_addr().ok();
    let tracker = Tracker::new(limits);
    // Refusals are answered by tasks of their own; past this many tasks, sockets over the limit
    // are closed without a word, so that a flood cannot grow them without bound.
    let max_tasks = limits.max_connections.saturating_mul(2);
    let mut sessions = JoinSet::new();
    let stop = shutdown.clone();

    loop {
        tokio::select! {
            _ = shutdown.wait() => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            accepted = tcp.accept() => {
                let (sock, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors or a connection reset before accept: wait a
                        // moment rather than spin.
                        warn!(service = %service, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = sock.set_nodelay(true);
                let local = sock.local_addr().unwrap_or_else(|_| local.unwrap_or(peer));
                let session_id = next_session_id();
                let meta = Meta {
                    peer,
                    local,
                    session_id,
                    service: service.clone(),
                    shutdown: stop.clone(),
                    starttls: starttls.clone(),
                    handshake_timeout,
                };
                let start = Start {
                    handler: handler.clone(),
                    tracker: tracker.clone(),
                    implicit_tls: implicit_tls.clone(),
                };
                if let Some(proxy) = &proxy {
                    // The client is known only once the header is read: the task reads it,
                    // then admits the connection under the client's address.
                    if sessions.len() >= max_tasks {
                        info!(service = %service, remote = %peer, "connection refused: too many open");
                        continue;
                    }
                    let proxy = proxy.clone();
                    sessions.spawn(start.proxied(sock, meta, proxy));
                    continue;
                }
                let span = info_span!("session", id = session_id, service = %service, remote = %peer);
                let permit = tracker.admit(peer.ip());
                if let Err(why) = &permit {
                    info!(parent: &span, ?why, "connection refused: over the limit");
                    if implicit_tls.is_some() || sessions.len() >= max_tasks {
                        continue;
                    }
                }
                sessions.spawn(start.run(sock, meta, permit).instrument(span));
            }
        }
    }

    drop(tcp);
    if !sessions.is_empty() {
        info!(service = %service, open = sessions.len(), "waiting for open sessions to finish");
    }
    let drain = async { while sessions.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drain).await.is_err() {
        warn!(service = %service, open = sessions.len(), "grace period over: closing open sessions");
        sessions.shutdown().await;
    }
}

/// What a connection's task needs to start its session.
struct Start<H> {
    handler: Arc<H>,
    tracker: Tracker,
    implicit_tls: Option<TlsConfig>,
}

impl<H: Handler> Start<H> {
    /// Runs the session of an admitted connection, or answers the refusal of one over a limit
    /// (on a plain listener; on an implicit-TLS one the socket is closed).
    async fn run(self, sock: TcpStream, meta: Meta, permit: Result<Permit, Refusal>) {
        match permit {
            Ok(permit) => {
                let handshake_timeout = meta.handshake_timeout;
                let Some((stream, name)) =
                    open_stream(sock, self.implicit_tls, handshake_timeout).await
                else {
                    return;
                };
                debug!(server_name = name.as_deref(), "session started");
                let mut conn = meta.into_connection(stream, Some(permit));
                conn.set_server_name(name);
                self.handler.handle(conn).await;
                debug!("session ended");
            }
            Err(why) => {
                if self.implicit_tls.is_some() {
                    return;
                }
                let conn = meta.into_connection(Stream::Plain(sock), None);
                let _ = tokio::time::timeout(REFUSAL_TIMEOUT, self.handler.refuse(conn, why)).await;
            }
        }
    }

    /// Reads the PROXY protocol header first; then the session runs as the client it names
    /// (its span, limits and peer address), or the connection is closed and the refusal logged.
    async fn proxied(self, mut sock: TcpStream, mut meta: Meta, proxy: ProxyProtocol) {
        let balancer = meta.peer;
        let header = match crate::proxy::accept(&mut sock, balancer.ip(), &proxy).await {
            Ok(h) => h,
            Err(e) => {
                warn!(id = meta.session_id, service = %meta.service, remote = %balancer, error = %e, "connection closed");
                return;
            }
        };
        if let Some(client) = header.source {
            meta.peer = client;
        }
        if let Some(destination) = header.destination {
            meta.local = destination;
        }
        let span = info_span!(
            "session",
            id = meta.session_id,
            service = %meta.service,
            remote = %meta.peer,
            proxy = %balancer
        );
        let permit = self.tracker.admit(meta.peer.ip());
        if let Err(why) = &permit {
            info!(parent: &span, ?why, "connection refused: over the limit");
        }
        self.run(sock, meta, permit).instrument(span).await;
    }
}

/// The stream of an accepted socket and the served name its client asked for by SNI; `None`
/// when the handshake failed, timed out, or was an ACME validation that ends there.
async fn open_stream(
    sock: TcpStream,
    tls: Option<TlsConfig>,
    limit: Duration,
) -> Option<(Stream, Option<String>)> {
    let Some(tls) = tls else {
        return Some((Stream::Plain(sock), None));
    };
    match tokio::time::timeout(limit, tls.accept(sock)).await {
        Ok(Ok(Some(accepted))) => {
            Some((Stream::Tls(Box::new(accepted.stream)), accepted.server_name))
        }
        Ok(Ok(None)) => {
            debug!("ACME TLS-ALPN-01 validation answered");
            None
        }
        Ok(Err(e)) => {
            debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            debug!("TLS handshake timed out");
            None
        }
    }
}
