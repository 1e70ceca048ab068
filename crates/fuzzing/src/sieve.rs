//! Sieve scripts (RFC 5228): the check a script passes when it is uploaded (ManageSieve, the
//! admin API) and the compile it goes through at delivery.
//!
//! Checked: neither panics nor runs away, and a script the upload check accepts compiles at
//! delivery (the check exists so that a stored script never fails there).

use std::sync::OnceLock;

use marque_delivery::SieveEngine;
use marque_hosting::sieve::check::{self, SieveLimits};

fn engine() -> &'static SieveEngine {
    static ENGINE: OnceLock<SieveEngine> = OnceLock::new();
    ENGINE.get_or_init(SieveEngine::default)
}

/// The fuzz target `sieve_script`.
pub fn sieve_script(data: &[u8]) {
    let uploaded = check::compile(data, &SieveLimits::default());
    let delivered = engine().compile(data);
    if let (Ok(()), Err(e)) = (&uploaded, &delivered) {
        panic!("accepted on upload, refused at delivery: {e}");
    }
}
