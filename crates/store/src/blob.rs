//! Message bodies, stored once per content hash.
//!
//! A body is hashed (BLAKE3) and, from [`crate::StoreOptions::compress_threshold`] bytes up,
//! zstd-compressed before it reaches the writer thread, so that the thread only moves bytes.
//! Each stored body has a reference count in the same batch as the records that point at it;
//! the transaction that drops the last reference deletes the body.

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Error, Result};
use crate::keyspace::{Key, Keyspace};
use crate::reader::Reader;
use crate::txn::Txn;

const RAW: u8 = 0;
const ZSTD: u8 = 1;

/// The content hash that names a body.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BlobHash(pub [u8; 32]);

impl std::fmt::Debug for BlobHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl BlobHash {
    /// Hashes `body`.
    pub fn of(body: &[u8]) -> Self {
        BlobHash(*blake3::hash(body).as_bytes())
    }
}

/// A body ready to be written: hashed and, if worth it, compressed.
#[derive(Debug, Clone)]
pub struct PreparedBlob {
    pub hash: BlobHash,
    /// Size of the body as the client sees it.
    pub size: u64,
    stored: Vec<u8>,
}

impl PreparedBlob {
    /// Hashes and compresses `body` according to the store's options. CPU work: call it before
    /// entering a transaction, off the async workers for large bodies.
    pub fn new(store: &Store, body: &[u8]) -> Result<Self> {
        let o = store.options();
        Self::with(body, o.compress_threshold, o.compress_level)
    }

    /// As [`PreparedBlob::new`] with explicit settings.
    pub fn with(body: &[u8], threshold: usize, level: i32) -> Result<Self> {
        let hash = BlobHash::of(body);
        let mut stored = Vec::with_capacity(body.len() / 2 + 16);
        if body.len() >= threshold {
            let packed =
                zstd::bulk::compress(body, level).map_err(|e| Error::Encode(e.to_string()))?;
            if packed.len() < body.len() {
                stored.push(ZSTD);
                stored.extend_from_slice(&(body.len() as u64).to_le_bytes());
                stored.extend_from_slice(&packed);
            }
        }
        if stored.is_empty() {
            stored.push(RAW);
            stored.extend_from_slice(body);
        }
        Ok(PreparedBlob {
            hash,
            size: body.len() as u64,
            stored,
        })
    }

    /// Bytes the body takes on disk (before RocksDB's own overhead).
    pub fn stored_len(&self) -> usize {
        self.stored.len()
    }
}

fn body_key(hash: &BlobHash) -> Vec<u8> {
    hash.0.to_vec()
}

fn ref_key(hash: &BlobHash) -> Vec<u8> {
    Key::new()
        .tag(crate::tags::counters::BLOB)
        .bytes(&hash.0)
        .into_bytes()
}

/// Takes one reference to `blob`, writing the body if this is the first.
pub fn acquire(txn: &mut Txn<'_>, blob: &PreparedBlob) -> Result<()> {
    if txn.add(&ref_key(&blob.hash), 1)? == 1 {
        txn.put(Keyspace::Blobs, body_key(&blob.hash), blob.stored.clone());
    }
    Ok(())
}

/// Takes one more reference to a body that is already stored (COPY, queue entries).
pub fn acquire_existing(txn: &mut Txn<'_>, hash: &BlobHash) -> Result<()> {
    let refs = txn.add(&ref_key(hash), 1)?;
    if refs == 1 {
        return Err(Error::NotFound(format!("blob {hash:?}")));
    }
    Ok(())
}

/// Drops one reference; the last one deletes the body.
pub fn release(txn: &mut Txn<'_>, hash: &BlobHash) -> Result<()> {
    let refs = txn.add(&ref_key(hash), -1)?;
    if refs < 0 {
        return Err(Error::Corrupt {
            keyspace: Keyspace::Counters,
            reason: format!("blob {hash:?} released more often than acquired"),
        });
    }
    if refs == 0 {
        txn.delete(Keyspace::Blobs, body_key(hash));
    }
    Ok(())
}

/// How many references a body has.
pub fn references_in(r: &impl Reader, hash: &BlobHash) -> Result<i64> {
    r.counter(&ref_key(hash))
}

/// Reads and decompresses a body (blocking).
pub fn read(store: &Store, hash: &BlobHash) -> Result<Option<Vec<u8>>> {
    let Some(stored) = store.get(Keyspace::Blobs, &body_key(hash))? else {
        return Ok(None);
    };
    decode_stored(&stored).map(Some)
}

fn decode_stored(stored: &[u8]) -> Result<Vec<u8>> {
    let corrupt = |reason: String| Error::Corrupt {
        keyspace: Keyspace::Blobs,
        reason,
    };
    match stored.split_first() {
        Some((&RAW, body)) => Ok(body.to_vec()),
        Some((&ZSTD, rest)) if rest.len() >= 8 => {
            let (len, packed) = rest.split_at(8);
            let mut a = [0u8; 8];
            a.copy_from_slice(len);
            let len = u64::from_le_bytes(a) as usize;
            zstd::bulk::decompress(packed, len).map_err(|e| corrupt(e.to_string()))
        }
        _ => Err(corrupt("unknown body encoding".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_only_above_threshold_and_only_when_smaller() {
        let small = PreparedBlob::with(b"hello", 1024, 3).unwrap();
        assert_eq!(small.stored[0], RAW);
        let text = "Subject: x\r\n\r\n".to_string() + &"all work and no play ".repeat(200);
        let big = PreparedBlob::with(text.as_bytes(), 1024, 3).unwrap();
        assert_eq!(big.stored[0], ZSTD);
        assert!(big.stored_len() < text.len() / 4);
        assert_eq!(decode_stored(&big.stored).unwrap(), text.as_bytes());
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let n = PreparedBlob::with(&noise, 1024, 3).unwrap();
        assert_eq!(decode_stored(&n.stored).unwrap(), noise);
    }

    #[test]
    fn corrupt_bodies_are_errors() {
        assert!(decode_stored(&[]).is_err());
        assert!(decode_stored(&[7, 1, 2]).is_err());
        assert!(decode_stored(&[ZSTD, 1, 0, 0, 0, 0, 0, 0, 0, 9, 9]).is_err());
    }
}
