//! `marque serve`: every configured service, or the `--only` subset, in one process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use marque_session::{
    Handler, InputBudget, Limits, Listener, Shutdown, ShutdownSignal, TlsConfig, budget,
};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::info;

use marque_store::lease::NamedLease;

use crate::config::{Config, Service};
use crate::datadir;
use crate::tenancy::Tenancy;

/// The name of the DNS checks' task lease.
const DNS_TASK: &str = "dns-checks";

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
    // This run of this node: the holder of every lease it takes in the store.
    let node = marque_store::lease::Holder::start(config.cluster.node.clone());
    info!(node = %node.node, incarnation = %format!("{:016x}", node.incarnation), "node");
    let tenancy = Tenancy::open(store.clone())?;
    datadir::bootstrap(&config, &tenancy).await?;
    let tls = crate::tls::load(&config)?;
    let served = crate::tls::reload(tenancy.hosting(), tls.resolver()).await?;
    info!(certificates = served, "TLS certificates loaded");

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
    let core = tenancy
        .core()
        .clone()
        .with_sign_in_policy(config.sign_in_policy());
    // The hosting features register their hook on the core: every service below uses this
    // core, so that the tenancy changes made anywhere reach them.
    let hosting = marque_hosting::Hosting::new(core)
        .with_sieve_limits(config.sieve.storage_limits())
        .with_server_hostname(&config.server.hostname)
        .with_dns(config.dns_settings())
        .with_webhook_targets(marque_hosting::webhook_target::TargetPolicy {
            allow: config.webhooks.allow_networks.clone(),
            own: listeners.iter().map(|(_, bound, _)| *bound).collect(),
        });
    let core = hosting.core().clone();
    // Redirects, vacation replies and bounces go to the outbound queue; with the workers off
    // nothing would send them, so a redirect keeps the message instead (docs/sieve.md).
    let outbox: std::sync::Arc<dyn marque_delivery::Outbox> = if config.outbound.enabled {
        std::sync::Arc::new(marque_delivery::QueueOutbox::new(core.store()))
    } else {
        std::sync::Arc::new(marque_delivery::NoOutbox)
    };
    let delivery = marque_delivery::Environment {
        sieve: std::sync::Arc::new(marque_delivery::SieveEngine::new(
            config.sieve.clone(),
            &config.server.hostname,
        )),
        outbox,
        hostname: config.server.hostname.clone(),
    };
    // One budget for the input every session holds in memory, SMTP and IMAP together.
    let budget = InputBudget::new(config.limits.input_memory, budget::DEFAULT_WAIT);
    std::fs::create_dir_all(config.spool_dir())
        .with_context(|| format!("creating {}", config.spool_dir().display()))?;
    let imap = marque_access::imap::Imap::with_command_rate(
        &core,
        &config.server.hostname,
        config.limits.imap_commands_per_second,
        config.limits.imap_command_burst,
    )
    .with_input_budget(budget.clone());
    let pop3 = marque_access::pop3::Pop3::new(&core, &config.server.hostname)
        .with_node(&node, config.cluster.lease);
    let ctx = Services {
        smtp: smtp_handler(&config, &core, delivery.clone(), budget),
        core,
        hosting,
        hostname: config.server.hostname.clone(),
        delivery,
        grace: config.server.shutdown_grace,
        limits,
        imap,
        pop3,
        tls,
        proxy: config.proxy_protocol.clone(),
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
    // The node's heartbeat, and the leases that keep each periodic task on one node at a time
    // (kept here, renewed every third of `[cluster] lease_secs`, given back at shutdown).
    let mut task_lease = |name: &str| {
        let lease = NamedLease::task(ctx.core.store(), name, &node, config.cluster.lease);
        let mut stop = shutdown.signal();
        tasks.spawn(lease.clone().keep(async move { stop.wait().await }));
        lease
    };
    let heartbeat = NamedLease::heartbeat(ctx.core.store(), &node, config.cluster.lease);
    if let Ok(marque_store::lease::Take::Busy(other)) = heartbeat.try_take().await {
        tracing::warn!(
            other = %other.holder,
            "this node's name has a live heartbeat of another run: either the previous run \
             ended less than [cluster] lease_secs ago, or another process uses the same \
             [cluster] node (each process needs its own)"
        );
    }
    let housekeeping_lease = task_lease(marque_admin::housekeeping::TASK);
    let dns_lease = task_lease(DNS_TASK);
    let acme_lease = if config.acme.enabled {
        Some(task_lease(crate::acme::TASK))
    } else {
        None
    };
    {
        let mut stop = shutdown.signal();
        tasks.spawn(heartbeat.keep(async move { stop.wait().await }));
    }
    // Webhooks: whatever the services change, the dispatcher sends from the store's outbox;
    // each delivery is claimed under a lease, so one dispatcher of all nodes sends it.
    let dispatcher = marque_admin::webhooks::Dispatcher::new(
        &ctx.hosting,
        marque_admin::webhooks::DispatchSettings {
            node: node.clone(),
            ..marque_admin::webhooks::DispatchSettings::default()
        },
    )
    .map_err(anyhow::Error::msg)?;
    tasks.spawn(dispatcher.run(shutdown.signal()));
    // What the API and the panel keep for a while (rate limits, sessions...), purged when due.
    tasks.spawn(marque_admin::housekeeping::run(
        ctx.core.store().clone(),
        marque_admin::state::Settings::default(),
        Some(housekeeping_lease),
        shutdown.signal(),
    ));
    // Every domain's DNS records, checked now and every `[dns] check_interval_secs`.
    tasks.spawn(
        ctx.hosting
            .clone()
            .run_dns_checks(Some(dns_lease), shutdown.signal()),
    );
    // Certificates: the resolver follows the store; ACME orders and renews when enabled.
    let resolver = ctx.tls.resolver().clone();
    tasks.spawn(crate::tls::watch(
        ctx.hosting.clone(),
        resolver.clone(),
        shutdown.signal(),
    ));
    if config.acme.enabled {
        let mut client =
            crate::acme::Client::new(ctx.hosting.clone(), resolver, config.acme.clone());
        if let Some(lease) = acme_lease {
            client = client.with_lease(lease);
        }
        tasks.spawn(client.run(shutdown.signal()));
    }
    // The outbound workers run with the SMTP services that fill the queue.
    if sends_mail && config.outbound.enabled {
        let (core, signal) = (ctx.core.clone(), shutdown.signal());
        let mut workers = crate::queue::worker_config(&config);
        workers.delivery = ctx.delivery.clone();
        workers.node = node.clone();
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
    /// The hosting features over the same core.
    hosting: marque_hosting::Hosting,
    hostname: String,
    /// Local delivery: the Sieve engine and the outbox.
    delivery: marque_delivery::Environment,
    grace: Duration,
    limits: Limits,
    tls: TlsConfig,
    /// One SMTP handler for every SMTP listener: one DNS resolver, one set of rate counters.
    smtp: marque_smtp::Smtp,
    /// One IMAP handler for `imap` and `imaps` (every address of both): sessions per user,
    /// failed sign-ins per address and the shared folder state count across them.
    imap: marque_access::imap::Imap,
    /// One POP3 handler for `pop3` and `pop3s`, for the same reason.
    pop3: marque_access::pop3::Pop3,
    /// `[proxy_protocol]`: the listeners behind a load balancer.
    proxy: crate::config::Proxy,
}

/// The SMTP handler with the `[dns]`, `[smtp]` and `[submission]` settings and local delivery.
fn smtp_handler(
    config: &Config,
    core: &marque_core::Core,
    delivery: marque_delivery::Environment,
    budget: InputBudget,
) -> marque_smtp::Smtp {
    let mut c = config.smtp.service_config(&config.server.hostname);
    c.input_budget = budget;
    c.spool_dir = Some(config.spool_dir());
    c.nameservers = config.dns.nameservers.clone();
    c.delivery = delivery;
    c.submission_limits = marque_smtp::submission_limits::Limits {
        max_messages_per_hour: config.submission.max_messages_per_hour,
        max_recipients_per_hour: config.submission.max_recipients_per_hour,
    };
    marque_smtp::Smtp::new(core, c)
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
        if let Some(proxy) = self.proxy.for_service(service) {
            listener = listener.proxy_protocol(proxy);
        }
        let host = self.hostname.as_str();
        match service {
            Service::Smtp | Service::Submission | Service::Submissions => {
                self.run(tasks, listener, self.smtp.clone(), stop)
            }
            Service::Imap | Service::Imaps => self.run(tasks, listener, self.imap.clone(), stop),
            Service::Pop3 | Service::Pop3s => self.run(tasks, listener, self.pop3.clone(), stop),
            Service::ManageSieve => self.run(
                tasks,
                listener,
                marque_access::managesieve::ManageSieve::new(&self.hosting, host)
                    .max_redirects(self.delivery.sieve.config().max_redirects),
                stop,
            ),
            Service::Http | Service::Https => self.run(
                tasks,
                listener,
                marque_admin::handler(&self.hosting, host),
                stop,
            ),
        }
    }

    fn run<H: Handler>(
        &self,
        tasks: &mut JoinSet<()>,
        listener: Listener,
        handler: H,
        stop: ShutdownSignal,
    ) {
        tasks.spawn(marque_session::serve(
            listener,
            Arc::new(handler),
            stop,
            self.grace,
        ));
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
