//! LOGOUT (RFC 5804 §2.3): `OK`, then the server closes the connection.

use super::super::response::Reply;

pub fn answer() -> Reply {
    Reply::ok("logout completed")
}
