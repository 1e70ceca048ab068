//! The one registry of storage key tags.
//!
//! A key is its owner (when the keyspace has owners) followed by a tag byte that says what kind
//! of record it is: `tenant · 'd' · domain id` is a domain, `account · 'M' · folder id` a folder.
//! Two kinds of record that shared a tag under the same owner would be read as each other by
//! every scan of either (listing a tenant's activations would decode its global Sieve scripts),
//! so every tag of every keyspace is assigned here and nowhere else, and each group below is
//! checked when the crate compiles: a duplicate tag in a group does not build.
//!
//! Groups follow the key layout: one per keyspace, plus one per nested level where a record
//! kind has sub-kinds under its own tag (the locator kinds of [`names`] reuse [`directory`]'s).
//! A tag that changes needs a migration of the data already stored ([`crate::migrate`]).

/// Declares one group of tags, its list, and the compile-time check that they are distinct.
macro_rules! tags {
    ($(#[$group_doc:meta])* $group:ident { $($(#[$doc:meta])* $name:ident = $byte:expr;)+ }) => {
        $(#[$group_doc])*
        pub mod $group {
            $($(#[$doc])* pub const $name: u8 = $byte;)+
            /// Every tag of this group, with its name.
            pub const ALL: &[(&str, u8)] = &[$((stringify!($name), $name)),+];
            const _: () = assert!(super::distinct(ALL), "two record kinds share a tag");
        }
    };
}

/// True if no two entries of `tags` have the same byte (usable in constants).
pub const fn distinct(tags: &[(&str, u8)]) -> bool {
    let mut i = 0;
    while i < tags.len() {
        let mut j = i + 1;
        while j < tags.len() {
            if tags[i].1 == tags[j].1 {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

tags! {
    /// [`crate::Keyspace::Meta`]: keys without an owner.
    meta {
        /// Id sequences ([`crate::Txn::next_id`]).
        SEQUENCE = b's';
        /// Recent failed sign-ins per client address and per login (the core's sign-in
        /// throttle, shared by every service and every process on the store).
        SIGN_IN = b't';
        /// The version of the stored data's layout ([`crate::migrate`]).
        FORMAT = b'f';
        /// An API rate-limit bucket, by token, principal or client address.
        API_BUCKET = b'r';
        /// When a key was last marked (a token's use written to the log, by token and address).
        API_MARK = b'u';
        /// A panel session, by the hash of its id.
        PANEL_SESSION = b'p';
        /// A panel sign-in waiting for its TOTP code, by the hash of its token.
        PANEL_PENDING = b'q';
        /// A remembered API response, by the hash of its bearer token and Idempotency-Key.
        IDEMPOTENCY = b'i';
        /// A submission user's messages or recipients in one minute (the SMTP hourly limits).
        SUBMISSION_COUNT = b'h';
        /// A lease (`'l' · scope · name`, [`crate::lease`]).
        LEASE = b'l';
    }
}

tags! {
    /// What a lease ([`crate::lease`]) is on: the byte after [`meta::LEASE`].
    lease {
        /// A periodic task that runs on one node at a time, by task name.
        TASK = b't';
        /// An outbound queue entry being delivered, by entry id.
        QUEUE = b'q';
        /// A webhook delivery being sent, by delivery id.
        WEBHOOK = b'w';
        /// A POP3 maildrop in the TRANSACTION state, by account id.
        POP3 = b'p';
        /// A node's heartbeat, by node name.
        NODE = b'n';
    }
}

tags! {
    /// [`crate::Keyspace::Directory`]: records under their owning tenant (`tenant · tag · ...`).
    directory {
        /// The tenant's own record.
        TENANT = b'T';
        /// A child tenant (`parent · 'c' · child`).
        CHILD = b'c';
        /// A domain.
        DOMAIN = b'd';
        /// A mailbox of a domain (`tenant · 'm' · domain · id`).
        MAILBOX = b'm';
        /// An alias of a domain.
        ALIAS = b'a';
        /// A mailing list of a domain.
        LIST = b'l';
        /// A plan.
        PLAN = b'p';
        /// A staff member (administrator or manager).
        STAFF = b's';
        /// An API token.
        TOKEN = b'k';
        /// A customer activation.
        ACTIVATION = b'v';
        /// An activation event, by month.
        EVENT = b'e';
        /// A credit ledger entry.
        LEDGER = b'$';
        /// A brand.
        BRAND = b'b';
        /// A brand's logo.
        LOGO = b'i';
        /// A staff member's TOTP secret (RFC 6238).
        TOTP = b'f';
        /// When a mailbox was last reported over quota.
        OVER_QUOTA = b'Q';
        /// A webhook.
        WEBHOOK = b'w';
        /// A webhook's delivery log.
        WEBHOOK_LOG = b'g';
        /// The webhook outbox (`0 · 'O' · due · delivery`; tenant 0 is never a tenant).
        WEBHOOK_OUTBOX = b'O';
        /// A tenant's or a domain's outbound identity (source address, EHLO name).
        OUTBOUND_IDENTITY = b'o';
        /// A domain's DKIM keys.
        DKIM = b'K';
        /// A certificate, by host name (under the provider).
        CERTIFICATE = b'X';
        /// The ACME account and HTTP-01 answers (under the provider).
        ACME = b'Y';
        /// A domain's DNS check results.
        DNS_STATUS = b'N';
        /// A tenant's or a domain's global Sieve scripts.
        SIEVE_GLOBAL = b'G';
    }
}

tags! {
    /// [`crate::Keyspace::Names`]: globally unique names, without an owner.
    names {
        /// A domain name.
        DOMAIN = b'D';
        /// A mailbox, alias or list address.
        ADDRESS = b'@';
        /// A staff login.
        LOGIN = b'n';
        /// The hash of an API token.
        TOKEN_HASH = b'h';
        /// A brand's host name.
        BRAND_HOST = b'B';
        /// Where an object id lives (`'#' · directory tag · id`).
        LOCATOR = b'#';
    }
}

tags! {
    /// [`crate::Keyspace::Mailboxes`]: records under their account (`account · tag · ...`).
    mailboxes {
        /// The account's mail state (sequences, UID validity).
        STATE = b'A';
        /// A folder.
        FOLDER = b'M';
        /// A folder's name, to its id.
        FOLDER_NAME = b'N';
        /// A subscription.
        SUBSCRIBED = b'S';
        /// A Sieve script.
        SIEVE_SCRIPT = b'V';
        /// The name of the active Sieve script.
        SIEVE_ACTIVE = b'W';
        /// An id a Sieve script has seen (`duplicate`, `vacation`), with its expiry.
        SIEVE_SEEN = b'X';
        /// The account's Sieve settings.
        SIEVE_SETTINGS = b'P';
        /// The keywords in use in a folder (`account · 'K' · folder`; IMAP FLAGS).
        FOLDER_KEYWORDS = b'K';
        /// The highest UID of a folder claimed as recent (`account · 'R' · folder`; IMAP
        /// `\Recent`).
        RECENT_CLAIMED = b'R';
    }
}

tags! {
    /// [`crate::Keyspace::Counters`]: the first byte of a counter's key.
    counters {
        /// Usage of a tenant (`'t' · tenant · metric`).
        TENANT = b't';
        /// Usage of a domain.
        DOMAIN = b'd';
        /// Usage of an account.
        ACCOUNT = b'a';
        /// A body's reference count (`'b' · hash`).
        BLOB = b'b';
        /// The books of a tenant (`'C' · tenant · kind`, kinds in [`books`]).
        BOOKS = b'C';
    }
}

tags! {
    /// The kinds of a tenant's books in [`crate::Keyspace::Counters`] (`'C' · tenant · kind`).
    books {
        /// The credit balance.
        CREDIT = b'$';
        /// Activations and deactivations per month.
        MONTHLY = b'M';
        /// Deliveries logged per webhook.
        WEBHOOK_LOG = b'g';
    }
}

tags! {
    /// [`crate::Keyspace::Queue`]: the outbound queue.
    queue {
        /// An entry, by id.
        ENTRY = b'E';
        /// The schedule: due time and id.
        DUE = b'D';
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_tag_is_found() {
        assert!(distinct(&[("A", b'a'), ("B", b'b')]));
        assert!(!distinct(&[("A", b'a'), ("B", b'b'), ("C", b'a')]));
    }

    #[test]
    fn every_group_is_distinct() {
        for group in [
            meta::ALL,
            directory::ALL,
            names::ALL,
            mailboxes::ALL,
            counters::ALL,
            books::ALL,
            queue::ALL,
            lease::ALL,
        ] {
            assert!(distinct(group), "{group:?}");
        }
    }
}
