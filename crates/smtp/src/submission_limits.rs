//! Hourly sending limits per submission user: messages and recipients over a sliding hour.
//!
//! The counters live in this process: several processes behind one address each count on
//! their own, and a restart forgets them. Memory is bounded by the limits themselves: a user
//! keeps at most `max_messages_per_hour` message times and `max_recipients_per_hour`
//! recipient times.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

const HOUR: Duration = Duration::from_secs(3600);

/// `[submission]` limits; zero means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_messages_per_hour: u32,
    pub max_recipients_per_hour: u32,
}

#[derive(Debug, Default)]
struct Usage {
    messages: VecDeque<Instant>,
    recipients: VecDeque<Instant>,
}

fn expire(q: &mut VecDeque<Instant>, now: Instant) {
    while q.front().is_some_and(|t| now.duration_since(*t) >= HOUR) {
        q.pop_front();
    }
}

/// The counters of every user.
#[derive(Debug)]
pub struct RateLimits {
    limits: Limits,
    users: Mutex<HashMap<String, Usage>>,
}

impl RateLimits {
    pub fn new(limits: Limits) -> Self {
        RateLimits {
            limits,
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// True if `user` may start another message now.
    pub fn may_send(&self, user: &str, now: Instant) -> bool {
        let max = self.limits.max_messages_per_hour;
        if max == 0 {
            return true;
        }
        let mut users = self.users.lock();
        let Some(u) = users.get_mut(user) else {
            return true;
        };
        expire(&mut u.messages, now);
        u.messages.len() < max as usize
    }

    /// Counts one more recipient for `user` if the limit allows it; false if it does not.
    pub fn take_recipient(&self, user: &str, now: Instant) -> bool {
        let max = self.limits.max_recipients_per_hour;
        if max == 0 {
            return true;
        }
        let mut users = self.users.lock();
        let u = users.entry(user.to_string()).or_default();
        expire(&mut u.recipients, now);
        if u.recipients.len() >= max as usize {
            return false;
        }
        u.recipients.push_back(now);
        true
    }

    /// Counts a message `user` sent.
    pub fn sent(&self, user: &str, now: Instant) {
        let max = self.limits.max_messages_per_hour;
        if max == 0 {
            return;
        }
        let mut users = self.users.lock();
        let u = users.entry(user.to_string()).or_default();
        expire(&mut u.messages, now);
        if u.messages.len() < max as usize {
            u.messages.push_back(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_recipients_over_a_sliding_hour() {
        let r = RateLimits::new(Limits {
            max_messages_per_hour: 2,
            max_recipients_per_hour: 3,
        });
        let t0 = Instant::now();
        assert!(r.may_send("a", t0));
        r.sent("a", t0);
        r.sent("a", t0 + Duration::from_secs(60));
        assert!(!r.may_send("a", t0 + Duration::from_secs(120)));
        assert!(r.may_send("b", t0), "other users are not affected");
        // The first message leaves the window after an hour.
        assert!(r.may_send("a", t0 + HOUR));
        for i in 0..3 {
            assert!(r.take_recipient("a", t0 + Duration::from_secs(i)));
        }
        assert!(!r.take_recipient("a", t0 + Duration::from_secs(10)));
        assert!(r.take_recipient("a", t0 + HOUR));
    }

    #[test]
    fn zero_means_unlimited() {
        let r = RateLimits::new(Limits::default());
        let t0 = Instant::now();
        for _ in 0..1000 {
            r.sent("a", t0);
            assert!(r.take_recipient("a", t0));
        }
        assert!(r.may_send("a", t0));
        assert!(r.users.lock().is_empty());
    }
}
