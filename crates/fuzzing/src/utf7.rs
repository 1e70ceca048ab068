//! Modified UTF-7 mailbox names (RFC 3501 §5.1.3), both ways.

use marque_access::imap::parse::utf7;

/// The fuzz target `imap_utf7`.
///
/// - Any text encodes to printable ASCII that decodes back to the same text.
/// - A name that decodes is in the one form the encoder writes: RFC 3501 §5.1.3 allows a
///   single representation per name (no base64 for printable ASCII, `&-` for `&`, no padding
///   bits set), so two different names on the wire never mean the same mailbox.
pub fn imap_utf7(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let encoded = utf7::encode(&text);
    assert!(
        encoded.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "{text:?} encoded as {encoded:?}"
    );
    assert_eq!(
        utf7::decode(&encoded).as_deref(),
        Some(&*text),
        "{text:?} encoded as {encoded:?}"
    );
    if let Ok(wire) = std::str::from_utf8(data)
        && wire.bytes().all(|b| (0x20..0x7f).contains(&b))
        && let Some(name) = utf7::decode(wire)
    {
        assert_eq!(utf7::encode(&name), wire, "{wire:?} decoded as {name:?}");
    }
}
