//! The wall clock, read one way everywhere: time since the Unix epoch.
//!
//! A clock set before 1970 reads as the epoch; one past the range of `u64` milliseconds reads
//! as the largest value, so that comparisons of deadlines stay on the safe side.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Whole seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_milliseconds_agree() {
        let ms = now_ms();
        let secs = now_secs();
        assert!(ms > 1_600_000_000_000, "the clock reads {ms} ms");
        assert!(secs.abs_diff(ms / 1000) <= 1, "{secs} s against {ms} ms");
    }
}
