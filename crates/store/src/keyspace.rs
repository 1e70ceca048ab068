//! Keyspaces (one RocksDB column family each) and the key encoding they share.
//!
//! Every key starts with the id of its owner (tenant or account) in big-endian order, so one
//! owner's data is one contiguous range that can be scanned, exported or deleted as a whole.

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

/// A keyspace: a column family with its own options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Keyspace {
    /// Store-level metadata: format version, id sequences.
    Meta,
    /// Tenancy records of the core (tenants, domains, principals, plans...), keyed by owner tenant.
    Directory,
    /// Global unique names: domain name, mailbox address, token hash → owner and id.
    Names,
    /// Per account: mail state, mailboxes, mailbox names, subscriptions.
    Mailboxes,
    /// Per account, mailbox and UID: the small, hot message record (flags, size, blob).
    Messages,
    /// Per account, mailbox and UID: metadata parsed at write time (envelope, structure, headers).
    MessageMeta,
    /// Per account, mailbox and modseq: flag changes and expunges (CONDSTORE/QRESYNC).
    Changes,
    /// Message bodies by content hash, compressed above a threshold.
    Blobs,
    /// Counters: usage per mailbox, domain and tenant; blob reference counts.
    Counters,
    /// The outbound queue and its schedule.
    Queue,
    /// Log records (transactions, authentications, audit), time-ordered per owner.
    Logs,
    /// Secondary indexes of log records by address, IP and message-id.
    LogIndex,
}

impl Keyspace {
    /// Every keyspace, in the order their column families are opened.
    pub const ALL: [Keyspace; 12] = [
        Keyspace::Meta,
        Keyspace::Directory,
        Keyspace::Names,
        Keyspace::Mailboxes,
        Keyspace::Messages,
        Keyspace::MessageMeta,
        Keyspace::Changes,
        Keyspace::Blobs,
        Keyspace::Counters,
        Keyspace::Queue,
        Keyspace::Logs,
        Keyspace::LogIndex,
    ];

    /// The column family name.
    pub fn name(self) -> &'static str {
        match self {
            Keyspace::Meta => "meta",
            Keyspace::Directory => "directory",
            Keyspace::Names => "names",
            Keyspace::Mailboxes => "mailboxes",
            Keyspace::Messages => "messages",
            Keyspace::MessageMeta => "message_meta",
            Keyspace::Changes => "changes",
            Keyspace::Blobs => "blobs",
            Keyspace::Counters => "counters",
            Keyspace::Queue => "queue",
            Keyspace::Logs => "logs",
            Keyspace::LogIndex => "log_index",
        }
    }
}

/// Builds a key from typed parts. Integers are big-endian so that byte order is numeric order;
/// strings in the middle of a key end with a NUL so that no name is a prefix of another's key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Key(Vec<u8>);

impl Key {
    /// An empty key.
    pub fn new() -> Self {
        Key(Vec::with_capacity(24))
    }
    /// Appends a tag byte (the record kind inside an owner's range).
    pub fn tag(mut self, tag: u8) -> Self {
        self.0.push(tag);
        self
    }
    /// Appends a big-endian `u64`.
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a big-endian `u32`.
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a string followed by a NUL terminator.
    pub fn str(mut self, s: &str) -> Self {
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }
    /// Appends raw bytes (only as the last part of a key).
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    /// The encoded key.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    /// The encoded key, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Key> for Vec<u8> {
    fn from(k: Key) -> Self {
        k.0
    }
}

/// Reads typed parts back out of a key.
#[derive(Debug)]
pub struct KeyReader<'a> {
    rest: &'a [u8],
    keyspace: Keyspace,
}

impl<'a> KeyReader<'a> {
    /// Starts reading `key` from keyspace `keyspace` (named in errors).
    pub fn new(keyspace: Keyspace, key: &'a [u8]) -> Self {
        KeyReader {
            rest: key,
            keyspace,
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(Error::Corrupt {
                keyspace: self.keyspace,
                reason: format!("key too short: wanted {n} more bytes"),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }
    /// Reads a tag byte.
    pub fn tag(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_be_bytes(a))
    }
    /// Reads a NUL-terminated string.
    pub fn str(&mut self) -> Result<&'a str> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| Error::Corrupt {
                keyspace: self.keyspace,
                reason: "unterminated string in key".into(),
            })?;
        let s = self.take(end)?;
        self.skip(1)?;
        std::str::from_utf8(s).map_err(|e| Error::Corrupt {
            keyspace: self.keyspace,
            reason: e.to_string(),
        })
    }
    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// Encodes a record for storage (postcard: compact, versioned by the record's own fields).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(|e| Error::Encode(e.to_string()))
}

/// Decodes a stored record.
pub fn decode<T: DeserializeOwned>(keyspace: Keyspace, bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| Error::Corrupt {
        keyspace,
        reason: e.to_string(),
    })
}

/// The smallest key that is greater than every key starting with `prefix` (None: no such key).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_numerically_and_round_trip() {
        let a = Key::new().u64(2).tag(1).str("INBOX").u32(7).into_bytes();
        let b = Key::new().u64(10).tag(1).str("INBOX").u32(1).into_bytes();
        assert!(a < b, "owner 2 sorts before owner 10");
        let mut r = KeyReader::new(Keyspace::Mailboxes, &a);
        assert_eq!(r.u64().unwrap(), 2);
        assert_eq!(r.tag().unwrap(), 1);
        assert_eq!(r.str().unwrap(), "INBOX");
        assert_eq!(r.u32().unwrap(), 7);
        assert!(r.rest().is_empty());
        assert!(
            r.u32().is_err(),
            "reading past the end is an error, not a panic"
        );
    }

    #[test]
    fn prefix_end_covers_the_prefix() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }
}
