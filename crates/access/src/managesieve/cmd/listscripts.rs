//! LISTSCRIPTS (RFC 5804 §2.7): one line per script, `ACTIVE` after the active one.

use marque_hosting::Hosting;

use super::super::response::{Reply, string};
use super::{User, refusal};

pub async fn run(hosting: &Hosting, user: &User) -> Reply {
    match hosting.sieve_list(&user.actor, &user.address).await {
        Ok(scripts) => {
            let mut r = Reply::default();
            for s in scripts {
                let mut line = Vec::new();
                string(&mut line, s.name.as_bytes());
                if s.active {
                    line.extend_from_slice(b" ACTIVE");
                }
                r.push_line(&line);
            }
            r.push_status("OK", None, "");
            r
        }
        Err(e) => refusal(&e),
    }
}
