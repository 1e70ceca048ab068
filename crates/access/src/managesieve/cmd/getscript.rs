//! GETSCRIPT (RFC 5804 §2.9): the script as a literal, then `OK`.

use marque_hosting::Hosting;

use super::super::response::Reply;
use super::{User, refusal};

pub async fn run(hosting: &Hosting, user: &User, name: &str) -> Reply {
    match hosting.sieve_get(&user.actor, &user.address, name).await {
        Ok(text) => {
            let mut r = Reply::default();
            // Always a literal: scripts have line breaks, and clients expect one.
            r.0.extend_from_slice(format!("{{{}}}\r\n", text.len()).as_bytes());
            r.0.extend_from_slice(text.as_bytes());
            r.0.extend_from_slice(b"\r\n");
            r.push_status("OK", None, "");
            r
        }
        Err(e) => refusal(&e),
    }
}
