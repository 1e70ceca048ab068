//! Decoded message metadata kept in memory, shared by every session of the process.
//!
//! Metadata is a function of the body alone and is stored under the body's content hash, so an
//! entry never goes stale: the same hash always names the same bytes and the same metadata.
//! (A body whose last copy is removed leaves its entry until it is evicted; it is only found
//! through a message record that names the hash, and no record names a removed body.) The
//! cache is bounded by an estimate of the bytes its entries hold, and evicts the least used.

use std::sync::Arc;

use crate::blob::BlobHash;
use crate::error::Result;

use super::MessageMeta;

/// The process-wide cache of [`MessageMeta`] by body hash.
pub(crate) struct MetaCache {
    /// `None` when the configured size is 0.
    cache: Option<moka::sync::Cache<BlobHash, Arc<MessageMeta>>>,
}

impl MetaCache {
    /// A cache holding about `bytes` of decoded metadata (0: none is kept).
    pub(crate) fn new(bytes: usize) -> MetaCache {
        let cache = (bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(bytes as u64)
                .weigher(|_: &BlobHash, m: &Arc<MessageMeta>| weight(m))
                .build()
        });
        MetaCache { cache }
    }

    /// The metadata of `hash`: from memory, else `load` (the store read), kept for next time.
    pub(crate) fn get_or_load(
        &self,
        hash: &BlobHash,
        load: impl FnOnce() -> Result<Option<MessageMeta>>,
    ) -> Result<Option<Arc<MessageMeta>>> {
        let Some(cache) = &self.cache else {
            return Ok(load()?.map(Arc::new));
        };
        if let Some(m) = cache.get(hash) {
            return Ok(Some(m));
        }
        let Some(meta) = load()? else {
            return Ok(None);
        };
        let meta = Arc::new(meta);
        cache.insert(*hash, meta.clone());
        Ok(Some(meta))
    }
}

/// An estimate of the heap an entry holds: the kept header section, the strings of the
/// envelope and the header index, and a fixed part per body part.
fn weight(m: &MessageMeta) -> u32 {
    let e = &m.envelope;
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let addresses = [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc]
        .iter()
        .flat_map(|l| l.iter())
        .map(|a| text(&a.name) + text(&a.mailbox) + text(&a.host) + 96)
        .sum::<usize>();
    let envelope = text(&e.date) + text(&e.subject) + text(&e.in_reply_to) + text(&e.message_id);
    let headers: usize = m.headers.iter().map(|h| h.name.len() + 40).sum();
    let references: usize = m.references.iter().map(|r| r.len() + 24).sum();
    let total = 512
        + m.header.as_ref().map_or(0, Vec::len)
        + addresses
        + envelope
        + headers
        + references
        + parts(&m.structure) * 256;
    u32::try_from(total).unwrap_or(u32::MAX)
}

fn parts(p: &super::BodyPart) -> usize {
    1 + p.children.iter().map(parts).sum::<usize>() + p.message.as_ref().map_or(0, |m| parts(&m.1))
}
