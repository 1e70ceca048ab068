//! HAVESPACE (RFC 5804 §2.5): whether a script of that name and size would be accepted.

use marque_hosting::Hosting;

use super::super::response::Reply;
use super::{User, refusal};

pub async fn run(hosting: &Hosting, user: &User, name: &str, size: u64) -> Reply {
    match hosting
        .sieve_have_space(&user.actor, &user.address, name, size)
        .await
    {
        Ok(()) => Reply::ok("putscript would succeed"),
        Err(e) => refusal(&e),
    }
}
