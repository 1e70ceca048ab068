//! The delivery status notification (RFC 3464) sent to the envelope sender for recipients a
//! Sieve `reject` refused after the SMTP transaction was accepted (RFC 5429 §2.1 allows a DSN
//! when the reject cannot be an SMTP reply).

use marque_core::header::{HeaderError, HeaderWriter};

use super::redirect::header_fields;

/// One refused recipient.
#[derive(Debug, Clone)]
pub struct Refused {
    pub address: String,
    pub reason: String,
}

/// The DSN as a whole message, from `MAILER-DAEMON@hostname` to `sender`, carrying the header
/// section of the original message (`text/rfc822-headers`).
pub fn build(
    hostname: &str,
    sender: &str,
    refused: &[Refused],
    original: &[u8],
    now: u64,
) -> Vec<u8> {
    let boundary = format!("=_marque_dsn_{now:x}");
    let subject = header_fields(original)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Subject"))
        .map(|(_, v)| v)
        .unwrap_or_default();
    let clean = |s: &str| s.replace(['\r', '\n'], " ");
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let hash = blake3::hash(original).to_hex();
    let mut w = HeaderWriter::new();
    let written = headers(
        &mut w,
        hostname,
        sender,
        &subject,
        now,
        &hash.as_str()[..16],
        &boundary,
    )
    .is_ok();
    let mut out = String::from_utf8_lossy(&w.finish()).into_owned();
    if !written {
        // Only a host name with a control character gets here: the DSN says so plainly.
        out = format!(
            "From: <MAILER-DAEMON@localhost>\r\nSubject: Undelivered Mail Returned to Sender\r\n\
             Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; \
             report-type=delivery-status; boundary=\"{boundary}\"\r\n"
        );
    }
    out.push_str("\r\n");
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    ));
    out.push_str("Your message was refused by a filter of the recipient:\r\n\r\n");
    for r in refused {
        out.push_str(&format!(
            "  <{}>: {}\r\n",
            clean(&r.address),
            clean(&r.reason)
        ));
    }
    // RFC 3464 §2.2 and §2.3: per-message then per-recipient fields.
    out.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; {hostname}\r\n"
    ));
    for r in refused {
        out.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: smtp; 550 5.7.1 {}\r\n",
            clean(&r.address),
            clean(&r.reason)
        ));
    }
    out.push_str(&format!(
        "\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    ));
    let mut bytes = out.into_bytes();
    let end = original
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .or_else(|| {
            original
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| p + 1)
        })
        .unwrap_or(original.len());
    bytes.extend_from_slice(&original[..end]);
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    bytes
}

/// The DSN's header fields through the platform's one writer: no value can add a field.
fn headers(
    w: &mut HeaderWriter,
    hostname: &str,
    sender: &str,
    subject: &str,
    now: u64,
    hash: &str,
    boundary: &str,
) -> Result<(), HeaderError> {
    w.mailbox(
        "From",
        Some("Mail Delivery System"),
        &format!("MAILER-DAEMON@{hostname}"),
    )?;
    if w.mailbox("To", None, sender).is_err() {
        w.text("To", &sender.replace(['\r', '\n'], " "))?;
    }
    w.text(
        "Subject",
        &format!("Undelivered Mail Returned to Sender: {subject}"),
    )?;
    w.structured("Date", &rfc2822_date(now))?;
    w.structured("Message-ID", &format!("<dsn.{now:x}.{hash}@{hostname}>"))?;
    w.structured("Auto-Submitted", "auto-replied")?;
    w.structured("MIME-Version", "1.0")?;
    w.structured(
        "Content-Type",
        &format!("multipart/report; report-type=delivery-status; boundary=\"{boundary}\""),
    )?;
    Ok(())
}

/// `now` (seconds since the epoch) as an RFC 5322 §3.3 date in UTC.
fn rfc2822_date(now: u64) -> String {
    let t = i64::try_from(now).unwrap_or(0);
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => d
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}
