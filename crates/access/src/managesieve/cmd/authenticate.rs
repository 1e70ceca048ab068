//! AUTHENTICATE (RFC 5804 §2.1) with SASL PLAIN (RFC 4616), with the initial response in the
//! command (SASL-IR) or after an empty server challenge; `"*"` cancels. The responses are
//! decoded by `marque_session::sasl`.

/// The only mechanism offered.
pub const PLAIN: &str = "PLAIN";
