//! The ManageSieve parser on random input: it never panics, never claims more bytes than it
//! was given, and a command it reads survives being cut at any point.

use marque_access::managesieve::parse::{Command, FrameError, FrameLimits, frame};
use proptest::prelude::*;

const LIMITS: FrameLimits = FrameLimits {
    max_line: 1024,
    max_literal: 4096,
};

fn pieces() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"PUTSCRIPT ".to_vec()),
        Just(b"AUTHENTICATE ".to_vec()),
        Just(b"HAVESPACE \"a\" 12".to_vec()),
        Just(b"\"quoted \\\" str\" ".to_vec()),
        Just(b"{5+}\r\nkeep;".to_vec()),
        Just(b"{3}\r\nab".to_vec()),
        Just(b"{99999999}\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"{".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_input_never_panics(input in pieces()) {
        let mut rest: &[u8] = &input;
        // Read commands until the input is used up or cannot be resynchronised.
        for _ in 0..64 {
            match frame(rest, LIMITS) {
                Ok(Some((tokens, used))) => {
                    prop_assert!(used > 0 && used <= rest.len());
                    let _ = Command::parse(tokens);
                    rest = &rest[used..];
                }
                Ok(None) => break,
                Err(FrameError::Syntax { skip, .. }) => {
                    prop_assert!(skip > 0 && skip <= rest.len());
                    rest = &rest[skip..];
                }
                Err(_) => break,
            }
        }
    }

    #[test]
    fn a_command_cut_anywhere_waits_for_the_rest(cut in 0usize..40) {
        let input = b"PUTSCRIPT \"n\" {12+}\r\nkeep;\r\nstop;\r\n";
        let cut = cut.min(input.len() - 1);
        prop_assert_eq!(frame(&input[..cut], LIMITS), Ok(None));
        let (tokens, used) = frame(input, LIMITS).unwrap().unwrap();
        prop_assert_eq!(used, input.len());
        prop_assert_eq!(
            Command::parse(tokens).unwrap(),
            Command::PutScript { name: "n".into(), script: b"keep;\r\nstop;".to_vec() }
        );
    }
}
