//! Outbound delivery: workers that take due entries from the queue
//! ([`marque_hosting::outbound`]), deliver them to the recipients' MX hosts and record what
//! happened.
//!
//! # Layout
//! - this file: [`OutboundConfig`] and the worker loop [`run`].
//! - `attempt`: one attempt of one message, and how its outcome is saved.
//! - [`client`]: the SMTP client session.
//! - [`dns`]: MX, A and AAAA lookups.
//! - [`dsn`]: delivery status notifications (RFC 3464).
//! - [`tls`]: the TLS client: opportunistic or required, certificates checked or not.

mod attempt;
pub mod client;
pub mod dns;
pub mod dsn;
pub mod tls;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use marque_core::Core;
use marque_session::ShutdownSignal;
use marque_store::lease::Holder;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{info, warn};

pub use client::Timeouts;
pub use tls::{TlsPolicy, TlsSettings};

/// How outbound delivery runs (`[outbound]` and `[dns]` in the configuration).
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Our name: the default EHLO name, and the reporting MTA in DSNs.
    pub hostname: String,
    /// The port remote hosts are reached on (25; tests use high ports).
    pub port: u16,
    /// Nameservers to ask; empty: those of `/etc/resolv.conf`.
    pub nameservers: Vec<SocketAddr>,
    /// The source address when neither the domain nor its tenants set one.
    pub source_ip: Option<IpAddr>,
    /// Messages delivered at once.
    pub concurrency: usize,
    /// Delay before the second attempt.
    pub retry_initial_ms: u64,
    /// Each later delay is the previous one times this.
    pub retry_factor: f64,
    /// Longest delay between two attempts.
    pub retry_max_delay_ms: u64,
    /// Age after which a message still not delivered is given up (and bounced).
    pub max_age_ms: u64,
    /// Age after which a "delayed" DSN goes to recipients that asked `NOTIFY=DELAY`.
    pub delay_warning_ms: u64,
    /// How long a worker holds a claimed entry before another may take it.
    pub lease_ms: u64,
    /// This process in the leases it takes on queue entries (`[cluster] node` and the
    /// incarnation chosen at start).
    pub node: Holder,
    /// How often the queue is looked at.
    pub poll_interval: Duration,
    pub timeouts: Timeouts,
    /// STARTTLS policy and certificate checks (`[outbound] tls`, `verify_certificates`,
    /// `ca_file`).
    pub tls: TlsSettings,
    /// Local delivery of queued mail for our own mailboxes (Sieve runs there too).
    pub delivery: marque_delivery::Environment,
}

impl OutboundConfig {
    /// The defaults: port 25, the system's nameservers, 10 messages at once, first retry after
    /// 5 minutes, doubling up to 4 hours, a delay warning after 4 hours, give up after 5 days.
    pub fn new(hostname: &str) -> Self {
        OutboundConfig {
            hostname: hostname.to_string(),
            port: 25,
            nameservers: Vec::new(),
            source_ip: None,
            concurrency: 10,
            retry_initial_ms: 5 * 60_000,
            retry_factor: 2.0,
            retry_max_delay_ms: 4 * 3_600_000,
            max_age_ms: 5 * 24 * 3_600_000,
            delay_warning_ms: 4 * 3_600_000,
            lease_ms: 30 * 60_000,
            node: Holder::local(),
            poll_interval: Duration::from_secs(1),
            timeouts: Timeouts {
                connect: Duration::from_secs(30),
                command: Duration::from_secs(300),
                data_end: Duration::from_secs(600),
            },
            tls: TlsSettings::default(),
            delivery: marque_delivery::Environment {
                hostname: hostname.to_string(),
                ..Default::default()
            },
        }
    }
}

/// What every attempt needs.
pub(crate) struct Context {
    pub core: Core,
    pub cfg: OutboundConfig,
    pub dns: dns::Dns,
    pub tls: tls::TlsClient,
}

pub(crate) use marque_store::now_ms;

/// Runs the workers until `stop` fires; attempts under way are then given `grace` to finish
/// (an entry cut off comes back when its lease runs out).
pub async fn run(
    core: Core,
    cfg: OutboundConfig,
    mut stop: ShutdownSignal,
    grace: Duration,
) -> std::io::Result<()> {
    let dns = dns::Dns::new(&cfg.nameservers)?;
    let limit = cfg.concurrency.max(1);
    let tls = tls::TlsClient::new(&cfg.tls)?;
    let ctx = Arc::new(Context {
        core,
        cfg,
        dns,
        tls,
    });
    let permits = Arc::new(Semaphore::new(limit));
    // Entries this process is delivering: a retry asked for meanwhile must not start a
    // second, parallel attempt.
    let busy: Arc<Mutex<HashSet<u64>>> = Arc::default();
    let mut tasks = JoinSet::new();
    match release_leases(&ctx.core, &ctx.cfg.node).await {
        Ok(0) => {}
        Ok(n) => info!(
            entries = n,
            "entries held by an earlier run of this node are due again"
        ),
        Err(e) => warn!(error = %e, "cannot release the leases of an earlier run"),
    }
    info!(
        concurrency = limit,
        port = ctx.cfg.port,
        "outbound delivery running"
    );
    loop {
        while tasks.try_join_next().is_some() {}
        let free = permits.available_permits();
        if free > 0 {
            match claim(&ctx, free).await {
                Ok(claimed) => {
                    for c in claimed {
                        if !busy.lock().map(|mut b| b.insert(c.id)).unwrap_or(false) {
                            continue;
                        }
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            break;
                        };
                        let (ctx, busy) = (ctx.clone(), busy.clone());
                        tasks.spawn(async move {
                            let id = c.id;
                            attempt::run(&ctx, c).await;
                            if let Ok(mut b) = busy.lock() {
                                b.remove(&id);
                            }
                            drop(permit);
                        });
                    }
                }
                Err(e) => warn!(error = %e, "cannot read the queue"),
            }
        }
        tokio::select! {
            _ = stop.wait() => break,
            _ = tokio::time::sleep(ctx.cfg.poll_interval) => {}
        }
    }
    info!(in_flight = tasks.len(), "outbound delivery stopping");
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
    Ok(())
}

/// Hands back the entries earlier runs of this node held when they ended, page by page;
/// other nodes' leases are left to run out.
async fn release_leases(core: &Core, node: &Holder) -> marque_core::Result<usize> {
    const PAGE: usize = 500;
    let (mut after, mut total) = (None, 0);
    loop {
        let now = now_ms();
        let node = node.clone();
        let (last, n) = core
            .store()
            .transact(move |txn| {
                marque_hosting::outbound::release_leases(txn, &node, after, PAGE, now)
            })
            .await?;
        total += n;
        match last {
            Some(id) => after = Some(id),
            None => return Ok(total),
        }
    }
}

/// Claims up to `limit` due entries; a plain read first, so an idle queue costs no write.
async fn claim(
    ctx: &Context,
    limit: usize,
) -> marque_core::Result<Vec<marque_hosting::outbound::Claimed>> {
    let now = now_ms();
    let store = ctx.core.store().clone();
    let any = tokio::task::spawn_blocking(move || marque_store::queue::due(&store, now, 1))
        .await
        .map_err(|e| marque_core::CoreError::Task(e.to_string()))??;
    if any.is_empty() {
        return Ok(Vec::new());
    }
    let (lease, node) = (ctx.cfg.lease_ms, ctx.cfg.node.clone());
    ctx.core
        .store()
        .transact(move |txn| marque_hosting::outbound::claim_due(txn, now, &node, lease, limit))
        .await
}
