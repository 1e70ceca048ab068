//! The few facts the platform reads from a leaf certificate (RFC 5280 §4.1): its validity and
//! the DNS names of its subjectAltName. A strict, bounded DER walk over the structure, so that
//! no X.509 library is needed beside rustls (which verifies nothing here: it only serves).

/// What a leaf certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeafFacts {
    /// subjectAltName dNSName entries, lower-case.
    pub names: Vec<String>,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
}

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT` version.
const VERSION: u8 = 0xa0;
/// `[3] EXPLICIT` extensions.
const EXTENSIONS: u8 = 0xa3;
/// GeneralName `dNSName [2] IA5String`.
const DNS_NAME: u8 = 0x82;
/// id-ce-subjectAltName, 2.5.29.17.
const SAN_OID: &[u8] = &[0x55, 0x1d, 0x11];

/// Reads the facts of a DER certificate.
pub(crate) fn leaf_facts(der: &[u8]) -> Result<LeafFacts, String> {
    let (cert, _) = expect(der, SEQUENCE, "certificate")?;
    let (mut tbs, _) = expect(cert, SEQUENCE, "tbsCertificate")?;
    if tbs.first() == Some(&VERSION) {
        tbs = next(tbs)?.2;
    }
    // serialNumber, signature, issuer.
    for _ in 0..3 {
        tbs = next(tbs)?.2;
    }
    let (validity, rest) = expect(tbs, SEQUENCE, "validity")?;
    let (not_before, validity) = time(validity)?;
    let (not_after, _) = time(validity)?;
    // subject, subjectPublicKeyInfo, then the optional fields.
    let mut tbs = next(next(rest)?.2)?.2;
    let mut names = Vec::new();
    while !tbs.is_empty() {
        let (tag, body, rest) = next(tbs)?;
        tbs = rest;
        if tag == EXTENSIONS {
            let (mut exts, _) = expect(body, SEQUENCE, "extensions")?;
            while !exts.is_empty() {
                let (ext, rest) = expect(exts, SEQUENCE, "extension")?;
                exts = rest;
                let (oid, mut ext) = expect(ext, OID, "extension id")?;
                if ext.first() == Some(&BOOLEAN) {
                    ext = next(ext)?.2;
                }
                let (value, _) = expect(ext, OCTET_STRING, "extension value")?;
                if oid == SAN_OID {
                    let (mut general, _) = expect(value, SEQUENCE, "subjectAltName")?;
                    while !general.is_empty() {
                        let (tag, name, rest) = next(general)?;
                        general = rest;
                        if tag == DNS_NAME {
                            let name = std::str::from_utf8(name)
                                .map_err(|_| "a dNSName is not ASCII".to_string())?;
                            names.push(name.trim_end_matches('.').to_ascii_lowercase());
                        }
                    }
                }
            }
        }
    }
    Ok(LeafFacts {
        names,
        not_before,
        not_after,
    })
}

/// One TLV: (tag, contents, what follows). Single-byte tags, definite lengths (DER).
fn next(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let truncated = || "truncated DER".to_string();
    let (&tag, rest) = input.split_first().ok_or_else(truncated)?;
    let (&first, mut rest) = rest.split_first().ok_or_else(truncated)?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length".to_string());
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if rest.len() < len {
        return Err(truncated());
    }
    let (body, after) = rest.split_at(len);
    Ok((tag, body, after))
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    match next(input)? {
        (t, body, rest) if t == tag => Ok((body, rest)),
        (t, _, _) => Err(format!("{what}: expected tag {tag:#04x}, found {t:#04x}")),
    }
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049, RFC 5280 §4.1.2.5.1) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`), as Unix seconds.
fn time(input: &[u8]) -> Result<(i64, &[u8]), String> {
    let (tag, body, rest) = next(input)?;
    let text = std::str::from_utf8(body).map_err(|_| "bad time".to_string())?;
    let digits = text
        .strip_suffix('Z')
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("unsupported time {text:?}"))?;
    let num = |s: &str| s.parse::<i32>().map_err(|_| format!("bad time {text:?}"));
    let (year, rest_digits) = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy = num(&digits[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (GENERALIZED_TIME, 14) => (num(&digits[..4])?, &digits[4..]),
        _ => return Err(format!("unsupported time {text:?}")),
    };
    let part = |i: usize| num(&rest_digits[i..i + 2]);
    let month = u8::try_from(part(0)?)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(|| format!("bad month in {text:?}"))?;
    let hms =
        |i: usize| part(i).and_then(|v| u8::try_from(v).map_err(|_| format!("bad time {text:?}")));
    let date = time::Date::from_calendar_date(year, month, hms(2)?)
        .map_err(|e| format!("bad date {text:?}: {e}"))?;
    let clock = time::Time::from_hms(hms(4)?, hms(6)?, hms(8)?)
        .map_err(|e| format!("bad time {text:?}: {e}"))?;
    Ok((
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .unix_timestamp(),
        rest,
    ))
}
