//! Property tests of the POP3 parsers, which take whatever the network sends: they never
//! panic, keep memory bounded, and the wire format round-trips.

use marque_access::pop3::cmd;
use marque_access::pop3::line::{Line, LineReader};
use marque_access::pop3::wire;
use proptest::prelude::*;

/// What a client recovers from a multi-line answer (RFC 1939 §3): lines until `.`, one leading
/// dot removed.
fn unstuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let text = body.strip_suffix(b".\r\n").expect("terminated");
    for line in text.split_inclusive(|&b| b == b'\n') {
        assert!(line.ends_with(b"\r\n"), "every line ends with CRLF");
        assert_ne!(line, b".\r\n", "no early terminator");
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    out
}

proptest! {
    #[test]
    fn parse_never_panics(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = cmd::parse(&line);
    }

    #[test]
    fn parse_never_panics_on_commandish_text(
        kw in "(?i)(user|pass|auth|stat|list|retr|dele|noop|rset|quit|top|uidl|capa|stls)",
        args in "[ 0-9a-zA-Z=+/*.-]{0,40}",
    ) {
        let _ = cmd::parse(format!("{kw} {args}").as_bytes());
        let _ = cmd::parse(kw.as_bytes());
    }

    #[test]
    fn sasl_plain_never_panics(s in "\\PC{0,200}") {
        let _ = marque_session::sasl::plain(s.as_bytes());
    }

    #[test]
    fn lines_stay_bounded_and_come_out_whole(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..40),
    ) {
        const MAX: usize = 128;
        let mut r = LineReader::new(MAX);
        for c in &chunks {
            r.push(c);
            prop_assert!(r.buffered() <= MAX + c.len());
            while let Some(line) = r.next_line() {
                if let Line::Complete(l) = line {
                    prop_assert!(l.len() < MAX);
                    prop_assert!(!l.contains(&b'\n'));
                }
            }
            prop_assert!(r.buffered() <= MAX + c.len());
        }
    }

    #[test]
    fn retr_round_trips_and_sizes_match(
        lines in proptest::collection::vec("[.a-z ]{0,20}", 0..30),
        crlf in any::<bool>(),
    ) {
        let sep = if crlf { "\r\n" } else { "\n" };
        let raw = lines.iter().map(|l| format!("{l}{sep}")).collect::<String>();
        let sent = wire::multiline(raw.as_bytes(), None);
        let got = unstuff(&sent);
        let normalised = lines.iter().map(|l| format!("{l}\r\n")).collect::<String>();
        prop_assert_eq!(&got, normalised.as_bytes());
        prop_assert_eq!(wire::wire_size(raw.as_bytes()), got.len() as u64);
    }
}
