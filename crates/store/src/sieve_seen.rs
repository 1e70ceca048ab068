//! Identifiers a Sieve script has seen, per account, each with an expiry: the `duplicate` test
//! (RFC 7352) and the "once per sender per period" memory of `vacation` (RFC 5230 §4.2).
//!
//! The identifier is hashed (BLAKE3) so that keys have a fixed size whatever a script uses as
//! its unique id. An expired entry reads as absent and is overwritten by the next record.

use crate::error::{Error, Result};
use crate::ids::AccountId;
use crate::keyspace::{Key, Keyspace};
use crate::reader::Reader;
use crate::txn::Txn;

const TAG_SEEN: u8 = crate::tags::mailboxes::SIEVE_SEEN;

fn key(account: AccountId, id: &str) -> Vec<u8> {
    Key::new()
        .u64(account.0)
        .tag(TAG_SEEN)
        .bytes(blake3::hash(id.as_bytes()).as_bytes())
        .into_bytes()
}

/// True if `id` was recorded for `account` and has not expired at `now` (seconds since the
/// epoch).
pub fn seen(r: &impl Reader, account: AccountId, id: &str, now: u64) -> Result<bool> {
    let Some(v) = r.get(Keyspace::Mailboxes, &key(account, id))? else {
        return Ok(false);
    };
    let expires = u64::from_be_bytes(v.as_slice().try_into().map_err(|_| Error::Corrupt {
        keyspace: Keyspace::Mailboxes,
        reason: "sieve seen-id expiry".into(),
    })?);
    Ok(expires > now)
}

/// Records `id` for `account` until `expires` (seconds since the epoch).
pub fn record(txn: &mut Txn<'_>, account: AccountId, id: &str, expires: u64) {
    txn.put(
        Keyspace::Mailboxes,
        key(account, id),
        expires.to_be_bytes().to_vec(),
    );
}
