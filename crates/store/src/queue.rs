//! The outbound queue.
