//! NOOP (RFC 5804 §2.13): `OK`, echoing the tag in a `TAG` response code if one was given.

use super::super::response::{Reply, string};

pub fn answer(tag: Option<&[u8]>) -> Reply {
    match tag {
        Some(tag) => {
            let mut line = b"OK (TAG ".to_vec();
            string(&mut line, tag);
            line.extend_from_slice(b") \"done\"");
            let mut r = Reply::default();
            r.push_line(&line);
            r
        }
        None => Reply::ok("done"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn echoes_the_tag() {
        assert_eq!(
            super::answer(Some(b"x1")).0,
            b"OK (TAG \"x1\") \"done\"\r\n"
        );
    }
}
