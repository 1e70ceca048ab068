//! The delivery status notification (RFC 3464) sent to the envelope sender for recipients a
//! Sieve `reject` refused after the SMTP transaction was accepted (RFC 5429 §2.1 allows a DSN
//! when the reject cannot be an SMTP reply).

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
    let mut out = String::new();
    out.push_str(&format!(
        "From: Mail Delivery System <MAILER-DAEMON@{hostname}>\r\n"
    ));
    out.push_str(&format!("To: <{}>\r\n", clean(sender)));
    out.push_str(&format!(
        "Subject: Undelivered Mail Returned to Sender: {}\r\n",
        clean(&subject)
    ));
    out.push_str(&format!("Date: {}\r\n", rfc2822_date(now)));
    let hash = blake3::hash(original).to_hex();
    out.push_str(&format!(
        "Message-ID: <dsn.{now:x}.{}@{hostname}>\r\n",
        &hash.as_str()[..16]
    ));
    out.push_str("Auto-Submitted: auto-replied\r\n");
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str(&format!(
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\r\n\r\n"
    ));
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
