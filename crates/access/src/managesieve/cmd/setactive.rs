//! SETACTIVE (RFC 5804 §2.8): makes a script active; the empty name deactivates them all.

use marque_hosting::Hosting;

use super::super::response::Reply;
use super::{User, refusal};

pub async fn run(hosting: &Hosting, user: &User, name: &str) -> Reply {
    let name = (!name.is_empty()).then_some(name);
    match hosting
        .sieve_set_active(&user.actor, &user.address, name)
        .await
    {
        Ok(()) if name.is_some() => Reply::ok("script activated"),
        Ok(()) => Reply::ok("no script is active"),
        Err(e) => refusal(&e),
    }
}
