//! The HTTP/1.1 side: hyper serves each connection with the router as its service, with
//! keep-alive, a header read timeout, a bounded head buffer and graceful shutdown.

use axum::Router;
use axum::body::Body;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use marque_session::{Connection, Handler};
use tower::ServiceExt;
use tracing::Instrument;

use crate::state::{AppState, ClientIp, Settings};

/// The largest request head hyper buffers (RFC 9112 §2.3 leaves the limit to the server).
const MAX_HEAD: usize = 64 * 1024;

/// The admin API handler for the `http` and `https` listeners.
#[derive(Clone)]
pub struct Api {
    settings: Settings,
    router: Router,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Api {
    /// The API over the hosting features and their core, answering as `hostname`.
    pub fn new(hosting: &marque_hosting::Hosting, hostname: &str, settings: Settings) -> Self {
        let state = AppState::new(hosting.clone(), hostname, settings);
        Api {
            settings,
            router: crate::api::router(state),
        }
    }

    /// The router (for in-process tests).
    pub fn router(&self) -> Router {
        self.router.clone()
    }
}

impl Handler for Api {
    async fn handle(&self, conn: Connection) {
        let peer = conn.peer().ip();
        let tls = crate::panel::Tls(conn.is_tls());
        let mut stop = conn.shutdown_signal();
        let draining = stop.clone();
        let router = self.router.clone();
        let svc =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ClientIp(peer));
                req.extensions_mut().insert(tls);
                req.extensions_mut()
                    .insert(crate::health::Draining(draining.is_triggered()));
                let router = router.clone();
                // One span per request inside the connection's; the query string may carry
                // addresses, so only the path is recorded.
                let span = tracing::info_span!(
                    "request",
                    method = %req.method(),
                    path = %req.uri().path()
                );
                async move {
                    let resp = router.oneshot(req.map(Body::new)).await;
                    if let Ok(r) = &resp {
                        tracing::debug!(status = r.status().as_u16(), "answered");
                    }
                    resp
                }
                .instrument(span)
            });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.settings.header_timeout)
            .keep_alive(true)
            .max_buf_size(MAX_HEAD);
        let served = builder.serve_connection(TokioIo::new(conn), svc);
        tokio::pin!(served);
        tokio::select! {
            r = served.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "http connection ended with an error");
                }
            }
            _ = stop.wait() => {
                // Finish the request in flight, then close (RFC 9112 §9.6).
                served.as_mut().graceful_shutdown();
                let _ = served.await;
            }
        }
    }
}
