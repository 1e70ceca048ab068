//! `marque serve`: every configured service, or the `--only` subset, in one process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use marque_core::net::{self, Handler, Limits, Listener, Shutdown, ShutdownSignal, TlsConfig};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::info;

use crate::config::{Config, Service};
use crate::datadir;
use crate::tenancy::Tenancy;

/// What `serve` was asked for beyond the configuration.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Run only these services (`--only`); all configured ones when `None`.
    pub only: Option<Vec<Service>>,
    /// Print `listening SERVICE ADDRESS` for each bound socket, then `ready`, on standard output.
    pub print_listeners: bool,
}

/// The services to run and their addresses, in the order of [`Service::ALL`].
pub fn selected(
    config: &Config,
    only: Option<&[Service]>,
) -> Result<Vec<(Service, Vec<SocketAddr>)>> {
    if let Some(only) = only {
        for service in only {
            if !config.listeners.contains_key(service) {
                bail!("--only {service}: the configuration gives it no address in [listeners]");
            }
        }
    }
    let chosen: Vec<_> = config
        .listeners
        .iter()
        .filter(|(service, _)| only.is_none_or(|only| only.contains(service)))
        .map(|(service, addrs)| (*service, addrs.clone()))
        .collect();
    if chosen.is_empty() {
        bail!("nothing to run: no service has an address in [listeners]");
    }
    Ok(chosen)
}

/// Runs until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn run(config: Config, options: Options) -> Result<()> {
    let services = selected(&config, options.only.as_deref())?;
    // Installed first, so that a signal sent as soon as `ready` is printed is not lost.
    let signals = Signals::install()?;

    let (store, fresh) = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || datadir::open_store(&config)).await??
    };
    info!(data_dir = %config.server.data_dir.display(), fresh, "store open");
    let tenancy = Tenancy::open(store.clone())?;
    datadir::bootstrap(&config, &tenancy).await?;
    let tls = crate::tls::load(&config)?;

    let mut listeners = Vec::new();
    for (service, addrs) in services {
        for addr in addrs {
            let tcp = TcpListener::bind(addr)
                .await
                .with_context(|| format!("listeners.{service}: cannot listen on {addr}"))?;
            let bound = tcp.local_addr()?;
            info!(service = %service, address = %bound, tls = service.implicit_tls(), "listening");
            listeners.push((service, bound, tcp));
        }
    }
    if options.print_listeners {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for (service, bound, _) in &listeners {
            writeln!(out, "listening {service} {bound}")?;
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }

    let shutdown = Shutdown::new();
    let limits = Limits {
        max_connections: config.limits.max_connections,
        max_per_ip: config.limits.max_connections_per_ip,
    };
    let ctx = Services {
        core: tenancy.core().clone(),
        hostname: config.server.hostname.clone(),
        grace: config.server.shutdown_grace,
        limits,
        tls,
    };
    let mut tasks = JoinSet::new();
    let sends_mail = listeners.iter().any(|(s, _, _)| {
        matches!(
            s,
            Service::Smtp | Service::Submission | Service::Submissions
        )
    });
    for (service, _, tcp) in listeners {
        ctx.spawn(&mut tasks, service, tcp, shutdown.signal());
    }
    // The outbound workers run with the SMTP services that fill the queue.
    if sends_mail && config.outbound.enabled {
        let (core, signal) = (ctx.core.clone(), shutdown.signal());
        let workers = crate::queue::worker_config(&config);
        let grace = config.server.shutdown_grace;
        tasks.spawn(async move {
            if let Err(e) = marque_smtp::outbound::run(core, workers, signal, grace).await {
                tracing::error!(error = %e, "outbound delivery cannot run");
            }
        });
    }

    signals.wait().await;
    info!(
        "shutting down: no new connections, open sessions have {:?}",
        config.server.shutdown_grace
    );
    shutdown.trigger();
    while tasks.join_next().await.is_some() {}

    drop(tenancy);
    tokio::task::spawn_blocking(move || store.flush())
        .await?
        .context("flushing the store")?;
    info!("stopped");
    Ok(())
}

/// What every listener task needs.
struct Services {
    core: marque_core::Core,
    hostname: String,
    grace: Duration,
    limits: Limits,
    tls: TlsConfig,
}

impl Services {
    fn spawn(
        &self,
        tasks: &mut JoinSet<()>,
        service: Service,
        tcp: TcpListener,
        stop: ShutdownSignal,
    ) {
        let mut listener = Listener::new(service.name(), tcp).limits(self.limits);
        listener = if service.implicit_tls() {
            listener.implicit_tls(self.tls.clone())
        } else {
            listener.starttls(self.tls.clone())
        };
        let (core, host) = (&self.core, self.hostname.as_str());
        match service {
            Service::Smtp | Service::Submission | Service::Submissions => {
                self.run(tasks, listener, marque_smtp::handler(core, host), stop)
            }
            Service::Imap | Service::Imaps => self.run(
                tasks,
                listener,
                marque_access::imap_handler(core, host),
                stop,
            ),
            Service::Pop3 | Service::Pop3s => self.run(
                tasks,
                listener,
                marque_access::pop3_handler(core, host),
                stop,
            ),
            Service::ManageSieve => self.run(
                tasks,
                listener,
                marque_delivery::managesieve_handler(core, host),
                stop,
            ),
            Service::Http | Service::Https => {
                self.run(tasks, listener, marque_admin::handler(core, host), stop)
            }
        }
    }

    fn run<H: Handler>(
        &self,
        tasks: &mut JoinSet<()>,
        listener: Listener,
        handler: H,
        stop: ShutdownSignal,
    ) {
        tasks.spawn(net::serve(listener, Arc::new(handler), stop, self.grace));
    }
}

/// SIGTERM and SIGINT.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => info!("SIGTERM received"),
            _ = self.int.recv() => info!("SIGINT received"),
        }
    }
}
