//! Session plumbing shared by every protocol: listeners, the accept loop, implicit TLS and
//! STARTTLS, connection limits, the per-connection `tracing` span and graceful shutdown.
//!
//! SMTP, IMAP, POP3, ManageSieve and HTTP only implement [`Handler::handle`]; running one service
//! or all of them is then only a different list of [`Listener`]s.
//!
//! # Layout
//! - [`budget`]: [`InputBudget`], the process-wide budget of client input held in memory.
//! - [`conn`]: [`Connection`] and its [`Stream`] (plain or TLS), with [`Connection::starttls`].
//! - [`network`]: [`Network`], an address range of the configuration.
//! - [`limits`]: [`Limits`] and the per-listener, per-IP connection counter.
//! - [`server`]: [`Listener`], the [`Handler`] trait and [`serve`], the accept loop.
//! - [`shutdown`]: [`Shutdown`] (the trigger) and [`ShutdownSignal`] (what sessions watch).
//! - [`tls`]: the SNI certificate resolver shared by every listener and STARTTLS (ring).

pub mod budget;
pub mod conn;
pub mod limits;
pub mod network;
pub mod server;
pub mod shutdown;
pub mod tls;

pub use budget::{Held, InputBudget};
pub use conn::{Connection, Stream};
pub use limits::Limits;
pub use network::Network;
pub use server::{Handler, Listener, serve};
pub use shutdown::{Shutdown, ShutdownSignal};
pub use tls::{Accepted, CertResolver, ParsedCert, TlsConfig, TlsError};

#[cfg(test)]
mod tests;
