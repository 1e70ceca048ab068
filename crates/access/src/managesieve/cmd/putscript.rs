//! PUTSCRIPT (RFC 5804 §2.6): compiles and stores a script; replacing the active script keeps
//! it active. Warnings come back with `OK (WARNINGS)`.

use marque_hosting::Hosting;

use super::super::response::{Code, Reply};
use super::{User, refusal};

pub async fn run(hosting: &Hosting, user: &User, name: &str, script: Vec<u8>) -> Reply {
    match hosting
        .sieve_put(&user.actor, &user.address, name, script)
        .await
    {
        Ok(warnings) if warnings.is_empty() => Reply::ok("script stored"),
        Ok(warnings) => Reply::status("OK", Some(Code::Warnings), &warnings.join("; ")),
        Err(e) => refusal(&e),
    }
}
