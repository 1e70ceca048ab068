//! Graceful shutdown: one trigger, any number of watchers.

use tokio::sync::watch;

/// The trigger: [`Shutdown::trigger`] tells every listener and session to wind down.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

/// What listeners and sessions hold to learn that shutdown has started.
#[derive(Debug, Clone)]
pub struct ShutdownSignal {
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A trigger that has not fired.
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        Shutdown { tx }
    }

    /// A signal to hand to a listener or a session.
    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal {
            rx: self.tx.subscribe(),
        }
    }

    /// Starts shutdown. Idempotent.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }
}

impl ShutdownSignal {
    /// Whether shutdown has started.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once shutdown has started (at once if it already has, or if the trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.rx.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_signal_sees_the_trigger() {
        let shutdown = Shutdown::new();
        let mut a = shutdown.signal();
        let b = shutdown.signal();
        assert!(!a.is_triggered());
        shutdown.trigger();
        a.wait().await;
        assert!(b.is_triggered());
    }

    #[tokio::test]
    async fn a_dropped_trigger_releases_waiters() {
        let shutdown = Shutdown::new();
        let mut s = shutdown.signal();
        drop(shutdown);
        s.wait().await;
    }
}
