//! RENAMESCRIPT (RFC 5804 §2.11.1): the new name must be free (`ALREADYEXISTS`); an active
//! script stays active.

use marque_hosting::Hosting;

use super::super::response::Reply;
use super::{User, refusal};

pub async fn run(hosting: &Hosting, user: &User, old: &str, new: &str) -> Reply {
    match hosting
        .sieve_rename(&user.actor, &user.address, old, new)
        .await
    {
        Ok(()) => Reply::ok("script renamed"),
        Err(e) => refusal(&e),
    }
}
