//! Protocol services in-process, each on its own listener on `127.0.0.1:0`, all stopped
//! together when the [`Services`] is dropped; and the self-signed certificate they offer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use marque_session::{Handler, Listener, Shutdown, TlsConfig, serve};
use tokio::net::TcpListener;

/// The name the test certificate is for (with 127.0.0.1).
pub const CERT_HOST: &str = "localhost";

/// A self-signed certificate for [`CERT_HOST`] and 127.0.0.1: the server's configuration and
/// the certificate in PEM for a client to trust.
pub struct TestCert {
    pub config: TlsConfig,
    pub pem: String,
}

impl TestCert {
    pub fn new() -> TestCert {
        let c = rcgen::generate_simple_self_signed(vec![CERT_HOST.to_string(), "127.0.0.1".into()])
            .expect("certificate");
        let pem = c.cert.pem();
        let config = TlsConfig::from_pem(pem.as_bytes(), c.signing_key.serialize_pem().as_bytes())
            .expect("tls config");
        TestCert { config, pem }
    }
}

impl Default for TestCert {
    fn default() -> Self {
        TestCert::new()
    }
}

/// How a listener offers TLS.
pub enum Offer {
    Plain,
    StartTls(TlsConfig),
    Implicit(TlsConfig),
}

/// Running services; dropping this stops them all.
pub struct Services {
    shutdown: Shutdown,
    grace: Duration,
}

/// A socket on `127.0.0.1:0`.
pub async fn loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

impl Services {
    /// Services that give open sessions `grace` to end when stopped.
    pub fn new(grace: Duration) -> Services {
        Services {
            shutdown: Shutdown::new(),
            grace,
        }
    }

    /// Serves `handler` as `service` on a new socket on `127.0.0.1:0`; its address.
    pub async fn listen<H: Handler>(
        &self,
        service: &str,
        offer: Offer,
        handler: Arc<H>,
    ) -> SocketAddr {
        self.serve(service, loopback().await, offer, handler)
    }

    /// Serves `handler` as `service` on `tcp`, bound by the caller; its address.
    pub fn serve<H: Handler>(
        &self,
        service: &str,
        tcp: TcpListener,
        offer: Offer,
        handler: Arc<H>,
    ) -> SocketAddr {
        let listener = Listener::new(service, tcp);
        let listener = match offer {
            Offer::Plain => listener,
            Offer::StartTls(tls) => listener.starttls(tls),
            Offer::Implicit(tls) => listener.implicit_tls(tls),
        };
        let addr = listener.local_addr().expect("address");
        tokio::spawn(serve(listener, handler, self.shutdown.signal(), self.grace));
        addr
    }

    /// Starts the graceful shutdown of every listener.
    pub fn stop(&self) {
        self.shutdown.trigger();
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}
