//! Delivery status notifications (RFC 3464, RFC 3462 `multipart/report`): a human-readable
//! part, the `message/delivery-status` part with one block per recipient reported (failed,
//! delayed, delivered or relayed: RFC 3464 §2.3.3), and the original message: whole in a
//! failure report unless the sender asked `RET=HDRS`, otherwise only its header (RFC 3461
//! §4.3 asks for the content in failure reports only).
//!
//! A DSN goes from the null sender `<>` (RFC 5321 §4.5.5), so no DSN is ever sent about a DSN.

use marque_core::header::{HeaderError, HeaderWriter};
use marque_hosting::outbound::{Kind, QueuedMessage, QueuedRecipient, Ret};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// The `Action:` of one recipient (RFC 3464 §2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Refused for good or given up: with `NOTIFY=FAILURE` or without NOTIFY.
    Failed,
    /// Still being retried after `[outbound] delay_warning`: with `NOTIFY=DELAY`.
    Delayed,
    /// Delivered into a local mailbox: with `NOTIFY=SUCCESS`.
    Delivered,
    /// Handed to a next hop that does not offer DSN, so no further report will come
    /// (RFC 3461 §6.2.1 d): with `NOTIFY=SUCCESS`.
    Relayed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
        }
    }
}

/// What happened to one recipient, for the report.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub recipient: &'a QueuedRecipient,
    pub action: Action,
    /// `4.4.7` when the message expired, otherwise the reply's enhanced code (or `5.0.0` for a
    /// failure, `4.0.0` for a delay, `2.0.0` for a success).
    pub status: String,
    /// The remote reply or the local reason.
    pub diagnostic: String,
}

/// The enhanced status code (RFC 3463) of a reply such as `550 5.1.1 unknown`, if it has one
/// of the right class.
pub fn enhanced_status(reply: &str) -> Option<String> {
    let mut words = reply.split_whitespace();
    let code = words.next()?;
    let class = code.chars().next()?;
    let st = words.next()?;
    let parts: Vec<&str> = st.split('.').collect();
    let ok = parts.len() == 3
        && parts[0].len() == 1
        && parts[0].starts_with(class)
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()));
    ok.then(|| st.to_string())
}

/// Decodes xtext (RFC 3461 §4): `+XX` is the byte XX.
pub fn xtext_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+'
            && let Some(h) = v.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(h, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn date(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc2822).ok())
        .unwrap_or_default()
}

/// The header of `original` (up to the first empty line).
pub fn header_of(original: &[u8]) -> &[u8] {
    for (i, w) in original.windows(4).enumerate() {
        if w == b"\r\n\r\n" {
            return &original[..i + 2];
        }
    }
    original
}

/// Removes characters that would break a header line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The subject and the first sentence of the human-readable part: the gravest action wins.
fn headline(reports: &[Report<'_>]) -> (&'static str, &'static str) {
    let has = |a: Action| reports.iter().any(|r| r.action == a);
    if has(Action::Failed) {
        (
            "Undelivered Mail Returned to Sender",
            "Your message could not be delivered to the following recipients:",
        )
    } else if has(Action::Delayed) {
        (
            "Delayed Mail (still being retried)",
            "Your message has not been delivered yet to the following recipients; delivery is still being attempted:",
        )
    } else if has(Action::Delivered) {
        (
            "Successful Mail Delivery Report",
            "Your message was delivered to the following recipients:",
        )
    } else {
        (
            "Relayed Mail Delivery Report",
            "Your message was relayed to a mail system that sends no further reports, for the following recipients:",
        )
    }
}

/// The DSN's header fields through the platform's one writer: no value can add a field.
fn headers(
    w: &mut HeaderWriter,
    hostname: &str,
    message: &QueuedMessage,
    subject: &str,
    now_ms: u64,
    boundary: &str,
) -> Result<(), HeaderError> {
    w.mailbox(
        "From",
        Some("Mail Delivery System"),
        &format!("MAILER-DAEMON@{hostname}"),
    )?;
    if w.mailbox("To", None, &message.sender).is_err() {
        w.text("To", &one_line(&message.sender))?;
    }
    w.text("Subject", subject)?;
    w.structured("Date", &date(now_ms))?;
    w.structured(
        "Message-ID",
        &format!("<dsn.{now_ms:x}.{:x}@{hostname}>", message.created_ms),
    )?;
    // RFC 3834 §5: an automatic reply; nobody should answer it automatically.
    w.structured("Auto-Submitted", "auto-replied")?;
    w.structured("MIME-Version", "1.0")?;
    w.structured(
        "Content-Type",
        &format!("multipart/report; report-type=delivery-status; boundary=\"{boundary}\""),
    )
    .map(|_| ())
}

/// Builds the DSN with `reports` about recipients of `message`, sent by `hostname` at
/// `now_ms`; `retry_until_ms` is when a delayed recipient will be given up. Returns the raw
/// message and the queue entry that carries it to the original sender.
pub fn build(
    hostname: &str,
    message: &QueuedMessage,
    original: &[u8],
    failed: &[Report<'_>],
    now_ms: u64,
    retry_until_ms: u64,
) -> (Vec<u8>, QueuedMessage) {
    let (subject, intro) = headline(failed);
    let boundary = format!("{:x}.{}/{hostname}", now_ms, failed.len());
    let mut w = HeaderWriter::new();
    let written = headers(&mut w, hostname, message, subject, now_ms, &boundary).is_ok();
    let mut m = String::from_utf8_lossy(&w.finish()).into_owned();
    if !written {
        // Only a host name with a control character gets here.
        m = format!(
            "From: <MAILER-DAEMON@localhost>\r\nSubject: {subject}\r\nAuto-Submitted: auto-replied\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; \
             boundary=\"{boundary}\"\r\n"
        );
    }
    m.push_str("\r\n");
    m.push_str("This is a MIME-encapsulated message.\r\n\r\n");

    // The human-readable part.
    m.push_str(&format!("--{boundary}\r\n"));
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    m.push_str(&format!(
        "This is the mail system at {hostname}.\r\n\r\n{intro}\r\n\r\n"
    ));
    for f in failed {
        m.push_str(&format!(
            "<{}>: {}\r\n",
            f.recipient.address,
            one_line(&f.diagnostic)
        ));
    }
    m.push_str("\r\n");

    // The machine-readable part (RFC 3464 §2).
    m.push_str(&format!("--{boundary}\r\n"));
    m.push_str("Content-Type: message/delivery-status\r\n\r\n");
    m.push_str(&format!("Reporting-MTA: dns; {hostname}\r\n"));
    if let Some(envid) = &message.envid {
        m.push_str(&format!(
            "Original-Envelope-Id: {}\r\n",
            one_line(&xtext_decode(envid))
        ));
    }
    m.push_str(&format!("Arrival-Date: {}\r\n", date(message.created_ms)));
    for f in failed {
        let r = f.recipient;
        m.push_str("\r\n");
        if let Some(orcpt) = &r.orcpt
            && let Some((kind, addr)) = orcpt.split_once(';')
        {
            m.push_str(&format!(
                "Original-Recipient: {kind};{}\r\n",
                one_line(&xtext_decode(addr))
            ));
        }
        m.push_str(&format!("Final-Recipient: rfc822; {}\r\n", r.address));
        m.push_str(&format!("Action: {}\r\n", f.action.as_str()));
        m.push_str(&format!("Status: {}\r\n", f.status));
        // Our own mailboxes have no remote MTA.
        if let Some(host) = &r.remote_host
            && f.action != Action::Delivered
        {
            m.push_str(&format!("Remote-MTA: dns; {host}\r\n"));
        }
        if f.diagnostic
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_digit)
        {
            m.push_str(&format!(
                "Diagnostic-Code: smtp; {}\r\n",
                one_line(&f.diagnostic)
            ));
        }
        m.push_str(&format!("Last-Attempt-Date: {}\r\n", date(now_ms)));
        if f.action == Action::Delayed {
            m.push_str(&format!("Will-Retry-Until: {}\r\n", date(retry_until_ms)));
        }
    }
    m.push_str("\r\n");

    // The original: whole, or its header only (RFC 3461 §4.3).
    m.push_str(&format!("--{boundary}\r\n"));
    let mut raw = m.into_bytes();
    let any_failed = failed.iter().any(|f| f.action == Action::Failed);
    if message.ret == Some(Ret::Hdrs) || !any_failed {
        raw.extend_from_slice(b"Content-Type: text/rfc822-headers\r\n\r\n");
        raw.extend_from_slice(header_of(original));
    } else {
        raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        raw.extend_from_slice(original);
    }
    if !raw.ends_with(b"\r\n") {
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());

    let mut entry = QueuedMessage::new(
        Kind::Bounce,
        "",
        vec![QueuedRecipient::new(message.sender.clone())],
        message.tenant,
    );
    entry.created_ms = now_ms;
    (raw, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes() {
        assert_eq!(enhanced_status("550 5.1.1 no").as_deref(), Some("5.1.1"));
        assert_eq!(enhanced_status("451 4.7.1 later").as_deref(), Some("4.7.1"));
        assert_eq!(enhanced_status("550 4.1.1 mismatch"), None);
        assert_eq!(enhanced_status("550 no such user"), None);
    }

    #[test]
    fn xtext() {
        assert_eq!(xtext_decode("a+2Bb+3Dc"), "a+b=c");
        assert_eq!(xtext_decode("plain"), "plain");
    }
}
