//! DELETESCRIPT (RFC 5804 §2.10): the active script cannot be deleted (`ACTIVE`).

use marque_hosting::Hosting;

use super::super::response::Reply;
use super::{User, refusal};

pub async fn run(hosting: &Hosting, user: &User, name: &str) -> Reply {
    match hosting.sieve_delete(&user.actor, &user.address, name).await {
        Ok(()) => Reply::ok("script deleted"),
        Err(e) => refusal(&e),
    }
}
