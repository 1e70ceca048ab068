//! Marque's hosting features, built over the tenancy core's public API: what a hosted domain
//! needs besides its mailboxes.
//!
//! [`Hosting`] is the handle: a [`Core`] with the hosting hooks registered
//! ([`hooks::HostingHooks`]), and the settings only these features use. The core calls
//! nothing here; it tells the hooks of its changes inside their transactions.
//!
//! # Layout
//! - [`hooks`] — the hosting side of the core's event hook.
//! - [`webhook`], [`webhook_outbox`] — webhooks, their durable outbox and delivery log.
//! - [`webhook_target`] — which addresses a webhook may be sent to (public ones, and the
//!   ranges the provider allows), in every spelling, resolved.

#![forbid(unsafe_code)]

pub mod hooks;
pub mod webhook;
pub mod webhook_outbox;
pub mod webhook_target;

use std::sync::Arc;

use marque_core::Core;

pub use webhook::{NewWebhook, Webhook, WebhookChanges, WebhookId};

/// The hosting features over a core: a cheap, cloneable handle.
#[derive(Debug, Clone)]
pub struct Hosting {
    core: Core,
    /// What webhooks may be sent to besides public addresses (`[webhooks]`).
    webhook_targets: Arc<webhook_target::TargetPolicy>,
}

impl Hosting {
    /// The hosting features over `core`, whose changes now reach them through the hook: use
    /// [`Hosting::core`] (or clones of it) for everything else, so that they do.
    pub fn new(core: Core) -> Hosting {
        Hosting {
            core: core.with_hooks(Arc::new(hooks::HostingHooks)),
            webhook_targets: Arc::default(),
        }
    }

    /// The core underneath, with the hosting hooks registered.
    pub fn core(&self) -> &Core {
        &self.core
    }
}
