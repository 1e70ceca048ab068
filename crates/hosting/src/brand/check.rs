//! Validation of a brand as given: a display name, DNS hostnames (each once), `#rrggbb`
//! colours, and a support link that can only be an `https` URL (a panel puts it in a link, so
//! `javascript:` and markup are refused).

use marque_core::error::{CoreError, Result};
use marque_core::validate;

use super::{Brand, HOSTNAMES_MAX, SUPPORT_URL_MAX};

/// Checks and normalises a brand as given (the logo is not taken from the input).
pub(super) fn validated(mut b: Brand) -> Result<Brand> {
    b.name = validate::name("name", &b.name)?;
    if b.hostnames.len() > HOSTNAMES_MAX {
        return Err(CoreError::invalid(
            "hostnames",
            format!("at most {HOSTNAMES_MAX} per brand"),
        ));
    }
    let mut hosts: Vec<String> = Vec::with_capacity(b.hostnames.len());
    for h in &b.hostnames {
        let h = validate::domain(h).map_err(|e| match e {
            CoreError::Invalid { reason, .. } => CoreError::invalid("hostnames", reason),
            other => other,
        })?;
        if hosts.contains(&h) {
            return Err(CoreError::invalid(
                "hostnames",
                format!("{h} is listed twice"),
            ));
        }
        hosts.push(h);
    }
    b.hostnames = hosts;
    b.colours.primary = colour("colours.primary", &b.colours.primary)?;
    b.colours.accent = colour("colours.accent", &b.colours.accent)?;
    b.support_url = match b.support_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => Some(support_url(u)?),
    };
    b.logo = None;
    Ok(b)
}

/// `#rrggbb`, lowercased.
fn colour(field: &'static str, input: &str) -> Result<String> {
    let c = input.trim().to_ascii_lowercase();
    let ok = c.len() == 7 && c.starts_with('#') && c.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(c)
    } else {
        Err(CoreError::invalid(
            field,
            format!("{input:?} is not a colour of the form #rrggbb"),
        ))
    }
}

/// An absolute `https` URL with a valid host and nothing a page could misread.
fn support_url(input: &str) -> Result<String> {
    let bad = |reason: &str| {
        Err(CoreError::invalid(
            "support_url",
            format!("{input:?}: {reason}"),
        ))
    };
    if input.len() > SUPPORT_URL_MAX {
        return bad("longer than 2048 characters");
    }
    if input
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\\'))
    {
        return bad("contains spaces, control characters, quotes or angle brackets");
    }
    let Some(rest) = input
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &input[8..])
    else {
        return bad("must start with https://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return bad("must not carry credentials");
    }
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => h,
        _ => authority,
    };
    if validate::domain(host).is_err() {
        return bad("needs a valid host name");
    }
    Ok(format!("https://{rest}"))
}
