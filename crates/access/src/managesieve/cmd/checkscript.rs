//! CHECKSCRIPT (RFC 5804 §2.12): compiles a script and stores nothing; the error names the
//! line and column.

use marque_hosting::Hosting;

use super::super::response::Reply;
use super::refusal;

pub fn run(hosting: &Hosting, script: &[u8]) -> Reply {
    match hosting.sieve_check(script) {
        Ok(()) => Reply::ok("script is valid"),
        Err(e) => refusal(&e),
    }
}
