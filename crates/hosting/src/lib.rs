//! Marque's hosting features, built over the tenancy core's public API: what a hosted domain
//! needs besides its mailboxes.
//!
//! [`Hosting`] is the handle: a [`Core`] with the hosting hooks registered
//! ([`hooks::HostingHooks`]), and the settings only these features use. The core calls
//! nothing here; it tells the hooks of its changes inside their transactions.
//!
//! # Layout
//! - [`hooks`] — the hosting side of the core's event hook.
//! - [`dkim`] — DKIM signing keys per domain and the TXT records that publish them.
//! - [`dns`] — the DNS records each domain must publish and the check of their propagation.
//! - [`cert`] — TLS certificates per served hostname (ACME or uploaded), the ACME account.
//! - [`brand`] — brands per tenant and domain, their hostnames and logos, and how a domain or
//!   a hostname resolves to the brand it shows.
//! - [`outbound`] — the outbound queue's messages, their scoped administration, and the
//!   source address and EHLO name each tenant or domain sends from.
//! - [`sieve`] — managing Sieve scripts, vacation and forwards, bulk filters.
//! - [`sieve_global`] — global Sieve scripts per tenant and per domain.
//! - [`webhook`], [`webhook_outbox`] — webhooks, their durable outbox and delivery log.
//! - [`webhook_target`] — which addresses a webhook may be sent to (public ones, and the
//!   ranges the provider allows), in every spelling, resolved.

#![forbid(unsafe_code)]

pub mod brand;
pub mod cert;
pub mod dkim;
pub mod dns;
pub mod hooks;
pub mod outbound;
pub mod sieve;
pub mod sieve_global;
pub mod webhook;
pub mod webhook_outbox;
pub mod webhook_target;

use std::sync::Arc;

use marque_core::Core;

pub use brand::{Brand, BrandOf, Colours, EffectiveBrand, LogoRef};
pub use webhook::{NewWebhook, Webhook, WebhookChanges, WebhookId};

/// The hosting features over a core: a cheap, cloneable handle.
#[derive(Debug, Clone)]
pub struct Hosting {
    core: Core,
    /// What webhooks may be sent to besides public addresses (`[webhooks]`).
    webhook_targets: Arc<webhook_target::TargetPolicy>,
    /// The limits on each mailbox's Sieve scripts.
    sieve: sieve::SieveLimits,
    /// `[server] hostname`: the name of the built-in brand when nobody set one.
    hostname: String,
    dns: dns::DnsState,
    /// Bumped on every certificate change, so that the TLS resolver reloads.
    certs: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Hosting {
    /// The hosting features over `core`, whose changes now reach them through the hook: use
    /// [`Hosting::core`] (or clones of it) for everything else, so that they do.
    pub fn new(core: Core) -> Hosting {
        Hosting {
            core,
            webhook_targets: Arc::default(),
            sieve: sieve::SieveLimits::default(),
            hostname: "localhost".into(),
            dns: dns::DnsState::default(),
            certs: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
        .hooked()
    }

    /// Registers the hosting hooks on the core, with the platform's host names as they are
    /// configured now.
    fn hooked(mut self) -> Hosting {
        let hooks = hooks::HostingHooks::new(self.platform_hosts());
        self.core = self.core.with_hooks(Arc::new(hooks));
        self
    }

    /// Sets the limits on each mailbox's Sieve scripts.
    pub fn with_sieve_limits(mut self, limits: sieve::SieveLimits) -> Hosting {
        self.sieve = limits;
        self
    }

    /// Sets the server's own hostname (`[server] hostname`): the built-in brand's name and
    /// mail host when no tenant above a domain has a brand.
    pub fn with_server_hostname(mut self, hostname: impl Into<String>) -> Hosting {
        self.hostname = hostname.into().trim_end_matches('.').to_ascii_lowercase();
        self.hooked()
    }

    /// Sets what the DNS check of domains' records uses (platform host, name servers...).
    pub fn with_dns(mut self, settings: dns::DnsSettings) -> Hosting {
        self.dns = dns::DnsState::new(settings);
        self.hooked()
    }

    /// The core underneath, with the hosting hooks registered.
    pub fn core(&self) -> &Core {
        &self.core
    }
}
