//! Session plumbing shared by every protocol: listeners, accept loop, shutdown.
