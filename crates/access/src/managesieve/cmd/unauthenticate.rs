//! UNAUTHENTICATE (RFC 5804 §2.14): back to the non-authenticated state; the connection and
//! its TLS stay.

use super::super::response::Reply;

pub fn answer(signed_in: bool) -> Reply {
    if signed_in {
        Reply::ok("signed out")
    } else {
        Reply::no(None, "not signed in")
    }
}
