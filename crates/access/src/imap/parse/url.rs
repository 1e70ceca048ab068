//! IMAP URLs (RFC 5092) that name a message or a part of one, as CATENATE takes them
//! (RFC 4469 §5):
//!
//! ```text
//! imapurl       = "imap://" [enc-user [";AUTH=" ("*" / enc-auth-type)] "@"] host [":" port]
//!                 "/" imessagepart
//! iabsolute     = "/" imessagepart
//! imessagepart  = enc-mailbox [";UIDVALIDITY=" nz-number] "/;UID=" nz-number
//!                 ["/;SECTION=" enc-section] ["/;PARTIAL=" number ["." nz-number]]
//! ```
//!
//! Parameter names are case-insensitive; the mailbox name is percent-encoded UTF-8 (RFC 5092
//! §5), the section an IMAP `section-spec` percent-encoded. URLAUTH parameters (RFC 4467) and
//! paths relative to another message are not taken: [`parse`] answers `None`.

use super::Parser;
use super::fetch::{Section, section};

/// A URL to a message, or a part of one, of the server's own mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageUrl {
    /// The user of an absolute URL (`imap://user@host/...`), decoded; `None` in the
    /// `/mailbox...` form, which means the signed-in user.
    pub user: Option<String>,
    /// The host of an absolute URL, as written.
    pub host: Option<String>,
    pub mailbox: String,
    pub uidvalidity: Option<u32>,
    pub uid: u32,
    pub section: Option<Section>,
    /// `;PARTIAL=offset[.length]`.
    pub partial: Option<(u32, Option<u32>)>,
}

/// `s` with its `%XX` escapes undone; `None` for a bad escape or a result that is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A non-zero number of up to 32 bits written only with digits.
fn nz_number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) || s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// Splits `;NAME=value` (NAME case-insensitive) off the front of `s`.
fn param<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let s = s.strip_prefix(';')?;
    let (n, v) = s.split_once('=')?;
    n.eq_ignore_ascii_case(name).then_some(v)
}

/// Parses a URL that names a message or one of its parts.
pub fn parse(url: &str) -> Option<MessageUrl> {
    if url.bytes().any(|c| !c.is_ascii_graphic()) {
        return None;
    }
    let (user, host, path) = match url.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("imap://") => {
            let rest = &url[7..];
            let (server, path) = rest.split_once('/')?;
            let (userinfo, hostport) = match server.rsplit_once('@') {
                Some((u, h)) => (Some(u), h),
                None => (None, server),
            };
            let user = match userinfo {
                Some(u) => {
                    // `;AUTH=` names a mechanism; which one does not change what is read.
                    let name = match u.find(';') {
                        Some(i) => {
                            param(&u[i..], "AUTH")?;
                            &u[..i]
                        }
                        None => u,
                    };
                    Some(percent_decode(name).filter(|n| !n.is_empty())?)
                }
                None => None,
            };
            if hostport.is_empty() {
                return None;
            }
            (user, Some(hostport.to_string()), path)
        }
        _ => (None, None, url.strip_prefix('/')?),
    };
    // enc-mailbox [";UIDVALIDITY=" n] "/;UID=" n ...
    let mut segments = path.split('/');
    let first = segments.next()?;
    let (mailbox, uidvalidity) = match first.find(';') {
        Some(i) => (
            &first[..i],
            Some(nz_number(param(&first[i..], "UIDVALIDITY")?)?),
        ),
        None => (first, None),
    };
    let mailbox = percent_decode(mailbox).filter(|m| !m.is_empty())?;
    let uid = nz_number(param(segments.next()?, "UID")?)?;
    let mut out = MessageUrl {
        user,
        host,
        mailbox,
        uidvalidity,
        uid,
        section: None,
        partial: None,
    };
    let mut next = segments.next();
    if let Some(v) = next.and_then(|s| param(s, "SECTION")) {
        let text = percent_decode(v)?;
        let mut p = Parser::new(text.as_bytes());
        let s = section(&mut p).ok()?;
        p.end().ok()?;
        out.section = Some(s);
        next = segments.next();
    }
    if let Some(v) = next.and_then(|s| param(s, "PARTIAL")) {
        let (offset, length) = match v.split_once('.') {
            Some((o, l)) => (o, Some(nz_number(l)?)),
            None => (v, None),
        };
        if offset.is_empty() || !offset.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        out.partial = Some((offset.parse().ok()?, length));
        next = segments.next();
    }
    // Anything else (URLAUTH's `;EXPIRE=`, `;URLAUTH=`, more path) is not a part we give.
    if next.is_some() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::parse::fetch::SectionText;

    #[test]
    fn rfc_4469_examples() {
        // RFC 4469 §5 and appendix A.
        let u = parse("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER").unwrap();
        assert_eq!(u.user, None);
        assert_eq!(u.mailbox, "Drafts");
        assert_eq!(u.uidvalidity, Some(385_759_045));
        assert_eq!(u.uid, 20);
        assert_eq!(u.section.unwrap().text, Some(SectionText::Header));
        let u = parse("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME").unwrap();
        let s = u.section.unwrap();
        assert_eq!((s.part, s.text), (vec![1], Some(SectionText::Mime)));
        let u = parse("/INBOX;UIDVALIDITY=785799047/;UID=113330/;section=1.5.9").unwrap();
        assert_eq!(u.section.unwrap().part, vec![1, 5, 9]);
        let u = parse("/Drafts;UIDVALIDITY=385759045/;UID=30").unwrap();
        assert_eq!((u.uid, u.section), (30, None));
    }

    #[test]
    fn rfc_5092_absolute_urls() {
        // RFC 5092 §7 (examples), with a user, `;AUTH=*`, a port and escapes.
        let u = parse(
            "imap://michael@example.org/INBOX;UIDVALIDITY=1/;UID=7/;SECTION=HEADER.FIELDS%20(SUBJECT)",
        )
        .unwrap();
        assert_eq!(u.user.as_deref(), Some("michael"));
        assert_eq!(u.host.as_deref(), Some("example.org"));
        assert!(matches!(
            u.section.unwrap().text,
            Some(SectionText::HeaderFields { not: false, .. })
        ));
        let u = parse(
            "IMAP://ann%40c.example;AUTH=*@mail.example:143/a%20b%2Fc/;UID=2/;PARTIAL=0.1024",
        )
        .unwrap();
        assert_eq!(u.user.as_deref(), Some("ann@c.example"));
        assert_eq!(u.mailbox, "a b/c");
        assert_eq!(u.uidvalidity, None);
        assert_eq!(u.partial, Some((0, Some(1024))));
        let u = parse("/Caf%C3%A9/;UID=1/;PARTIAL=10").unwrap();
        assert_eq!(u.mailbox, "Café");
        assert_eq!(u.partial, Some((10, None)));
    }

    #[test]
    fn refused_forms() {
        for bad in [
            "",
            "/",
            "Drafts;UIDVALIDITY=1/;UID=1", // relative to a base we do not have
            "/Drafts;UIDVALIDITY=0/;UID=1", // nz-number
            "/Drafts/;UID=0",              // nz-number
            "/Drafts/;UID=01",             // no leading zero
            "/Drafts/;UID=x",
            "/Drafts",                       // no message
            "/Drafts/;UID=1/;SECTION=1.0",   // part numbers start at 1
            "/Drafts/;UID=1/;SECTION=BOGUS", // not a section-spec
            "/Drafts/;UID=1/;PARTIAL=1.0",   // the length is nz-number
            "/Drafts/;UID=1;EXPIRE=2026-12-08T00:00:00Z;URLAUTH=anonymous:internal:0", // URLAUTH
            "/Drafts/;UID=1/extra",
            "/Dr%ZZafts/;UID=1",
            "/Dr afts/;UID=1",
            "imap:///INBOX/;UID=1",
            "imap://@host/INBOX/;UID=1",
            "http://host/INBOX/;UID=1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
