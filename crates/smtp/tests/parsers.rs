//! Property tests of the parsers, apart from any socket: arbitrary input never panics, and
//! DATA transparency round-trips whatever the content.

use marque_smtp::inbound::cmd;
use marque_smtp::inbound::content::Collector;
use proptest::prelude::*;

proptest! {
    #[test]
    fn command_parsing_never_panics(line in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = cmd::parse(&line);
    }

    #[test]
    fn command_like_lines_never_panic(
        verb in prop_oneof!["MAIL FROM:", "RCPT TO:", "EHLO ", "BDAT ", "AUTH ", "mail from:"],
        rest in "[ -~]{0,200}",
    ) {
        let _ = cmd::parse(format!("{verb}{rest}").as_bytes());
    }

    #[test]
    fn dot_stuffing_round_trips(lines in proptest::collection::vec("[ -~]{0,120}", 0..40)) {
        // What a client sends (RFC 5321 §4.5.2): a period doubled at the start of a line.
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for l in &lines {
            if l.starts_with('.') {
                wire.push(b'.');
            }
            wire.extend_from_slice(l.as_bytes());
            wire.extend_from_slice(b"\r\n");
            expected.extend_from_slice(l.as_bytes());
            expected.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b".\r\n");
        let mut c = Collector::new(1 << 20);
        let mut ended = false;
        let mut rest = &wire[..];
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(i + 1);
            rest = tail;
            if c.data_line(line) {
                ended = true;
                break;
            }
        }
        prop_assert!(ended);
        prop_assert!(rest.is_empty());
        prop_assert_eq!(c.finish().into_bytes(), Some(expected));
    }
}
