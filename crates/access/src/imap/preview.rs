//! PREVIEW (RFC 8970): a short plain-text rendering of a message for a client's message list.
//!
//! The text comes from the message's first text body part (an HTML body is turned into text
//! first), decoded from its transfer encoding and charset. Lines quoting an earlier message
//! (`>`) are left out, every run of white space becomes one space, control characters are
//! dropped, and the result is cut to at most [`MAX_CHARS`] characters (RFC 8970 §3: "MUST
//! NOT exceed 256 characters"; characters, not octets). A message without a text part has an
//! empty preview.

use mail_parser::MessageParser;

/// The longest preview, in characters.
pub const MAX_CHARS: usize = 256;

/// The preview of the message `raw`.
pub fn preview(raw: &[u8]) -> String {
    let Some(message) = MessageParser::default().parse(raw) else {
        return String::new();
    };
    let Some(text) = message.body_text(0) else {
        return String::new();
    };
    condense(&text)
}

/// Unquoted lines of `text` with white space collapsed, at most [`MAX_CHARS`] characters.
fn condense(text: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut space = false;
    for line in text.lines() {
        if line.trim_start().starts_with('>') {
            continue;
        }
        for c in line.chars().chain(std::iter::once(' ')) {
            if c.is_whitespace() {
                space = !out.is_empty();
                continue;
            }
            if c.is_control() {
                continue;
            }
            let need = usize::from(space) + 1;
            if chars + need > MAX_CHARS {
                return out;
            }
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
            chars += need;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_condensed() {
        let raw =
            b"Subject: x\r\nContent-Type: text/plain\r\n\r\nHello  there,\r\n\r\n\tsee you\r\n";
        assert_eq!(preview(raw), "Hello there, see you");
    }

    #[test]
    fn quoted_lines_are_left_out() {
        let raw = b"Subject: x\r\n\r\nYes.\r\n> Are you coming?\r\n>> earlier\r\nBye\r\n";
        assert_eq!(preview(raw), "Yes. Bye");
    }

    #[test]
    fn at_most_256_characters_not_octets() {
        let body = "\u{e9}".repeat(300);
        let raw = format!(
            "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
        );
        let p = preview(raw.as_bytes());
        assert_eq!(p.chars().count(), MAX_CHARS);
        assert!(p.chars().all(|c| c == '\u{e9}'));
    }

    #[test]
    fn transfer_encoding_and_charset_are_undone() {
        let raw = b"Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
            Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 cr=E8me=\r\n br=FBl=E9e\r\n";
        assert_eq!(preview(raw), "Caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e");
    }

    #[test]
    fn html_only_messages_are_rendered_as_text() {
        let raw = b"Subject: x\r\nContent-Type: text/html\r\n\r\n<html><body><p>Hi <b>you</b></p>\
            <script>x()</script></body></html>\r\n";
        let p = preview(raw);
        assert!(p.starts_with("Hi you"), "{p:?}");
        assert!(!p.contains('<'), "{p:?}");
    }

    #[test]
    fn multipart_takes_the_first_text_part_and_no_attachment() {
        let raw = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Type: text/plain\r\n\r\nThe text\r\n--b\r\nContent-Type: application/pdf\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
        assert_eq!(preview(raw), "The text");
    }

    #[test]
    fn no_text_part_gives_an_empty_preview() {
        let raw = b"Subject: x\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0=\r\n";
        assert_eq!(preview(raw), "");
    }
}
