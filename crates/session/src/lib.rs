//! Marque's session plumbing, shared by every protocol: listeners, the accept loop, implicit
//! TLS and STARTTLS (with one handshake timeout), connection limits, timed reads and writes,
//! SASL, the per-connection `tracing` span and graceful shutdown. It knows nothing of tenants
//! or mail: the core and the protocols build on it, never the other way round.
//!
//! SMTP, IMAP, POP3, ManageSieve and HTTP only implement [`Handler::handle`]; running one service
//! or all of them is then only a different list of [`Listener`]s. Every connection runs inside
//! one span, `session{id, service, remote}`; protocol code adds child spans (a command), never
//! those fields again.
//!
//! # Layout
//! - [`budget`]: [`InputBudget`], the process-wide budget of client input held in memory.
//! - [`conn`]: [`Connection`] and its [`Stream`] (plain or TLS), with [`Connection::starttls`].
//! - [`network`]: [`Network`], an address range of the configuration.
//! - [`lines`]: [`LineIo`], the one bounded line reader of every line protocol (lines with a
//!   limit, counted reads of literals and chunks, the answer queue, timed reads and writes,
//!   STARTTLS), over [`LineBuffer`], its part without I/O.
//! - [`limits`]: [`Limits`] and the per-listener, per-IP connection counter.
//! - [`proxy`]: the PROXY protocol (v1 and v2) of listeners behind a load balancer.
//! - [`sasl`]: SASL responses and the PLAIN and LOGIN mechanisms, decoded once for every
//!   protocol.
//! - [`server`]: [`Listener`], the [`Handler`] trait and [`serve`], the accept loop.
//! - [`shutdown`]: [`Shutdown`] (the trigger) and [`ShutdownSignal`] (what sessions watch).
//! - [`tls`]: the SNI certificate resolver shared by every listener and STARTTLS (ring).

#![forbid(unsafe_code)]

pub mod budget;
pub mod conn;
pub mod limits;
pub mod lines;
pub mod network;
pub mod proxy;
pub mod sasl;
pub mod server;
pub mod shutdown;
pub mod tls;

pub use budget::{Held, InputBudget};
pub use conn::{Connection, Stream};
pub use limits::Limits;
pub use lines::{Line, LineBuffer, LineIo, Timed};
pub use network::Network;
pub use proxy::ProxyProtocol;
pub use server::{HANDSHAKE_TIMEOUT, Handler, Listener, serve};
pub use shutdown::{Shutdown, ShutdownSignal};
pub use tls::{Accepted, CertResolver, ParsedCert, TlsConfig, TlsError};

#[cfg(test)]
mod tests;
