//! DELETESCRIPT (RFC 5804 §2.10): the active script cannot be deleted (`ACTIVE`).

use marque_core::Core;

use super::super::response::Reply;
use super::{User, refusal};

pub async fn run(core: &Core, user: &User, name: &str) -> Reply {
    match core.sieve_delete(&user.actor, &user.address, name).await {
        Ok(()) => Reply::ok("script deleted"),
        Err(e) => refusal(&e),
    }
}
