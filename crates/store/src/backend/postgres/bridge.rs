//! The runtime the PostgreSQL client runs on, and blocking calls into it.
//!
//! The backend owns a small multi-threaded tokio runtime: connection tasks and queries run
//! there whoever the caller is. A caller on a plain thread (the writer thread) drives its
//! query with `block_on`; a caller inside some other runtime (an async task reading the store
//! directly, or tokio's blocking pool) cannot, so its query is spawned on the backend's runtime
//! and the caller waits on a channel, the way a RocksDB read blocks its caller.

use std::future::Future;

use tokio::runtime::{Handle, Runtime};

use crate::error::{Error, Result};

/// Threads of the backend's runtime: the work is waiting on the network, not computing.
const THREADS: usize = 2;

pub(super) struct Bridge {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl Bridge {
    pub(super) fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(THREADS)
            .thread_name("marque-postgres")
            .enable_all()
            .build()
            .map_err(|e| Error::Io(format!("cannot start the PostgreSQL client runtime: {e}")))?;
        let handle = runtime.handle().clone();
        Ok(Bridge {
            runtime: Some(runtime),
            handle,
        })
    }

    /// The runtime's handle (the pool spawns its connection tasks there).
    pub(super) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `fut` on the backend's runtime and waits for its result.
    pub(super) fn block<T, F>(&self, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        if Handle::try_current().is_err() {
            return self.handle.block_on(fut);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| {
            Error::Backend("a PostgreSQL query task stopped without answering".into())
        })?
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // The store may be dropped inside an async task, where waiting for a runtime's threads
        // is not allowed: let them finish on their own.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
