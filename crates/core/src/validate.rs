//! Input validation: domain names, addresses, display names, passwords.
//!
//! Everything that names something is normalised to lowercase first; what is left must be plain
//! ASCII DNS syntax (IDNA is not handled: internationalised names must arrive as `xn--` labels).

use crate::error::{CoreError, Result};

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 8;
/// Longest password accepted (argon2 takes any length; this stops abuse).
pub const PASSWORD_MAX: usize = 1024;
/// Longest display name.
pub const NAME_MAX: usize = 200;

/// Normalises and checks a domain name (RFC 1035 §2.3.1 syntax, RFC 1123 §2.1 digits first).
pub fn domain(input: &str) -> Result<String> {
    let name = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |reason: &str| {
        Err(CoreError::invalid(
            "domain name",
            format!("{input:?}: {reason}"),
        ))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > 253 {
        return bad("longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return bad("needs at least two labels");
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return bad("every label needs 1 to 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return bad("only letters, digits, hyphens and dots are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label cannot start or end with a hyphen");
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return bad("the top-level label cannot be numeric");
    }
    Ok(name)
}

/// Normalises and checks an email address (`local@domain`, RFC 5321 §4.1.2 dot-string local
/// parts only; quoted local parts are refused).
pub fn address(input: &str) -> Result<String> {
    let trimmed = input.trim();
    let bad = |reason: &str| {
        Err(CoreError::invalid(
            "address",
            format!("{input:?}: {reason}"),
        ))
    };
    let Some((local, dom)) = trimmed.rsplit_once('@') else {
        return bad("missing @");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("the local part needs 1 to 64 characters");
    }
    const SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~.";
    if !local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
    {
        return bad("the local part holds a character that is not allowed");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("misplaced dot in the local part");
    }
    let dom = domain(dom)?;
    Ok(format!("{}@{dom}", local.to_ascii_lowercase()))
}

/// The domain part of an already validated address.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Checks a display name (tenant, plan, list...): trimmed, non-empty, no control characters.
pub fn name(field: &'static str, input: &str) -> Result<String> {
    let name = input.trim();
    if name.is_empty() {
        return Err(CoreError::invalid(field, "empty"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(CoreError::invalid(
            field,
            format!("longer than {NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(name.to_string())
}

/// Checks a sign-in name of an administrator or manager: lowercase letters, digits, `.-_`, and
/// no `@` (addresses sign in as mailboxes).
pub fn login(input: &str) -> Result<String> {
    let login = input.trim().to_ascii_lowercase();
    if login.is_empty() || login.len() > 64 {
        return Err(CoreError::invalid("login", "needs 1 to 64 characters"));
    }
    if !login
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        return Err(CoreError::invalid(
            "login",
            "only letters, digits, '.', '-' and '_' are allowed",
        ));
    }
    Ok(login)
}

/// Checks a new password's length.
pub fn password(input: &str) -> Result<()> {
    let n = input.chars().count();
    if n < PASSWORD_MIN {
        return Err(CoreError::invalid(
            "password",
            format!("shorter than {PASSWORD_MIN} characters"),
        ));
    }
    if input.len() > PASSWORD_MAX {
        return Err(CoreError::invalid(
            "password",
            format!("longer than {PASSWORD_MAX} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(domain("Example.COM.").unwrap(), "example.com");
        assert_eq!(
            domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "com",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "a b.com",
            "1.2.3.4",
            "ex@mple.com",
        ] {
            assert!(domain(bad).is_err(), "{bad:?} accepted");
        }
        assert!(domain(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn addresses() {
        assert_eq!(
            address(" John.Doe@Example.com ").unwrap(),
            "john.doe@example.com"
        );
        assert_eq!(address("a+tag@b.example").unwrap(), "a+tag@b.example");
        for bad in [
            "",
            "a",
            "@b.com",
            "a@",
            "a@b",
            ".a@b.com",
            "a..b@c.com",
            "a b@c.com",
            "\"q\"@c.com",
        ] {
            assert!(address(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_logins_passwords() {
        assert_eq!(name("name", "  Acme  ").unwrap(), "Acme");
        assert!(name("name", " ").is_err());
        assert!(name("name", "a\nb").is_err());
        assert_eq!(login("Ops-1").unwrap(), "ops-1");
        assert!(login("a@b.c").is_err());
        assert!(password("short").is_err());
        assert!(password("long enough").is_ok());
    }
}
