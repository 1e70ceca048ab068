//! The envelope of a transaction as MAIL FROM and RCPT TO give it (RFC 5321 §4.1.1.2,
//! §4.1.1.3, with the parameters of RFC 1870, RFC 6152, RFC 6531 and RFC 3461): what the
//! commands parse into ([`super::cmd::mail`], [`super::cmd::rcpt`]) and the transaction keeps.

use marque_hosting::outbound::{Notify, Ret};

/// `BODY=` (RFC 6152 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    #[default]
    SevenBit,
    EightBitMime,
}

/// A parsed `MAIL FROM`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailFrom {
    /// The reverse path; empty for the null sender `<>`.
    pub from: String,
    /// `SIZE=`: the size the client announces.
    pub size: Option<u64>,
    pub body: Body,
    pub smtputf8: bool,
    /// `RET=`: full message or headers only in a DSN.
    pub ret: Option<Ret>,
    /// `ENVID=`, as given (xtext).
    pub envid: Option<String>,
}

/// A parsed `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptTo {
    pub to: String,
    pub notify: Option<Notify>,
    /// `ORCPT=addr-type;xtext`, as given.
    pub orcpt: Option<String>,
}
