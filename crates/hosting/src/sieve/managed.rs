//! The managed section: a user's vacation message and forwards, kept as structured settings and
//! compiled into a clearly marked block at the top of the user's active script.
//!
//! Only the lines from [`BEGIN`] to [`END`] belong to Marque; everything else in the script is
//! the user's own and is kept byte for byte when the settings change. When both settings are
//! off the block is removed.
//!
//! The block carries its own `require`. RFC 5228 §3.2 wants `require` before other commands;
//! sieve-rs accepts a later `require` as well, so the user's own `require` lines may follow the
//! block.

use serde::{Deserialize, Serialize};

use marque_core::error::{CoreError, Result};
use marque_core::validate;

/// The first line of the managed section.
pub const BEGIN: &str = "# BEGIN marque-managed";
/// The last line of the managed section.
pub const END: &str = "# END marque-managed";
/// Longest vacation subject, in bytes.
pub const MAX_SUBJECT: usize = 255;
/// Longest vacation body, in bytes.
pub const MAX_BODY: usize = 16 * 1024;
/// Most forwarding addresses.
pub const MAX_FORWARDS: usize = 10;
/// Most extra `:addresses` of a vacation.
pub const MAX_VACATION_ADDRESSES: usize = 20;

/// An automatic reply (RFC 5230), sent at most once per sender every `days` days while
/// enabled and, if given, between `start` and `end` (inclusive, `YYYY-MM-DD`, server time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vacation {
    pub enabled: bool,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    /// RFC 5230 §4.1 `:days`; the runtime's default when absent.
    #[serde(default)]
    pub days: Option<u32>,
    /// RFC 5230 §4.5 `:addresses`: other addresses of the user.
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// Forwarding of every message to other addresses, with or without a copy kept here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwards {
    pub addresses: Vec<String>,
    #[serde(default)]
    pub keep_copy: bool,
}

/// The structured settings of one mailbox, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub vacation: Option<Vacation>,
    #[serde(default)]
    pub forwards: Option<Forwards>,
}

impl Vacation {
    /// Checks the settings and returns them normalised (addresses lower-cased, dates checked).
    pub fn validated(mut self, own_address: &str) -> Result<Vacation> {
        if self.subject.len() > MAX_SUBJECT {
            return Err(CoreError::invalid(
                "subject",
                format!("at most {MAX_SUBJECT} bytes"),
            ));
        }
        if self.subject.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "subject",
                "may not contain line breaks or control characters",
            ));
        }
        if self.body.len() > MAX_BODY {
            return Err(CoreError::invalid(
                "body",
                format!("at most {MAX_BODY} bytes"),
            ));
        }
        if self.body.contains('\0') {
            return Err(CoreError::invalid("body", "may not contain NUL"));
        }
        if self.enabled && self.body.trim().is_empty() {
            return Err(CoreError::invalid(
                "body",
                "an enabled vacation needs a message",
            ));
        }
        if let Some(d) = self.days
            && !(1..=365).contains(&d)
        {
            return Err(CoreError::invalid("days", "between 1 and 365"));
        }
        let start = self
            .start
            .as_deref()
            .map(|d| date("start", d))
            .transpose()?;
        let end = self.end.as_deref().map(|d| date("end", d)).transpose()?;
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(CoreError::invalid("end", "is before start"));
        }
        if self.addresses.len() > MAX_VACATION_ADDRESSES {
            return Err(CoreError::invalid(
                "addresses",
                format!("at most {MAX_VACATION_ADDRESSES}"),
            ));
        }
        self.addresses = self
            .addresses
            .iter()
            .map(|a| validate::address(a))
            .collect::<Result<Vec<_>>>()?;
        self.addresses.retain(|a| a != own_address);
        Ok(self)
    }
}

impl Forwards {
    /// Checks the settings and returns them normalised. Forwarding to the mailbox itself would
    /// loop and is refused.
    pub fn validated(mut self, own_address: &str) -> Result<Forwards> {
        if self.addresses.len() > MAX_FORWARDS {
            return Err(CoreError::invalid(
                "addresses",
                format!("at most {MAX_FORWARDS} forwarding addresses"),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(self.addresses.len());
        for a in &self.addresses {
            let a = validate::address(a)?;
            if a == own_address {
                return Err(CoreError::invalid(
                    "addresses",
                    "a mailbox cannot forward to itself",
                ));
            }
            if !out.contains(&a) {
                out.push(a);
            }
        }
        self.addresses = out;
        Ok(self)
    }
}

/// Checks a `YYYY-MM-DD` date.
fn date(field: &'static str, input: &str) -> Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(input, format)
        .map_err(|_| CoreError::invalid(field, format!("{input:?} is not a YYYY-MM-DD date")))
}

/// A Sieve quoted string (RFC 5228 §2.4.2): backslash and double quote escaped.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn string_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", items.join(", "))
}

/// The managed section for `settings`, or `None` when nothing is on.
pub fn render(settings: &Settings) -> Option<String> {
    let vacation = settings.vacation.as_ref().filter(|v| v.enabled);
    let forwards = settings
        .forwards
        .as_ref()
        .filter(|f| !f.addresses.is_empty());
    if vacation.is_none() && forwards.is_none() {
        return None;
    }
    let mut require: Vec<&str> = Vec::new();
    let mut body = String::new();
    if let Some(v) = vacation {
        require.push("vacation");
        let mut action = String::from("vacation");
        if let Some(d) = v.days {
            action.push_str(&format!(" :days {d}"));
        }
        if !v.subject.is_empty() {
            action.push_str(&format!(" :subject {}", quoted(&v.subject)));
        }
        if !v.addresses.is_empty() {
            action.push_str(&format!(" :addresses {}", string_list(&v.addresses)));
        }
        action.push_str(&format!(" {};", quoted(&v.body)));
        // RFC 5260 §5: currentdate with the relational :value match (RFC 5231).
        let mut tests = Vec::new();
        if let Some(s) = &v.start {
            tests.push(format!("currentdate :value \"ge\" \"date\" {}", quoted(s)));
        }
        if let Some(e) = &v.end {
            tests.push(format!("currentdate :value \"le\" \"date\" {}", quoted(e)));
        }
        if tests.is_empty() {
            body.push_str(&action);
            body.push_str("\r\n");
        } else {
            require.extend(["date", "relational"]);
            body.push_str(&format!(
                "if allof ({}) {{\r\n    {action}\r\n}}\r\n",
                tests.join(", ")
            ));
        }
    }
    if let Some(f) = forwards {
        if f.keep_copy {
            // RFC 3894: redirect :copy keeps the implicit keep and the user's own rules.
            require.push("copy");
            for a in &f.addresses {
                body.push_str(&format!("redirect :copy {};\r\n", quoted(a)));
            }
        } else {
            for a in &f.addresses {
                body.push_str(&format!("redirect {};\r\n", quoted(a)));
            }
            body.push_str("stop;\r\n");
        }
    }
    let mut out = format!(
        "{BEGIN}\r\n# Written from the vacation and forwarding settings; edits here are replaced.\r\n"
    );
    if !require.is_empty() {
        out.push_str(&format!(
            "require {};\r\n",
            string_list(&require.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        ));
    }
    out.push_str(&body);
    out.push_str(END);
    out.push_str("\r\n");
    Some(out)
}

/// Byte offset of the first line of `script` that starts with `marker`, at or after `from`.
fn find_line(script: &str, marker: &str, from: usize) -> Option<usize> {
    let mut pos = from;
    while pos <= script.len() {
        let rest = &script[pos..];
        if rest.starts_with(marker) {
            return Some(pos);
        }
        let next = rest.find('\n')?;
        pos += next + 1;
    }
    None
}

/// The end of the line starting at `pos` (after its line break, or the end of the script).
fn line_end(script: &str, pos: usize) -> usize {
    script[pos..]
        .find('\n')
        .map(|n| pos + n + 1)
        .unwrap_or(script.len())
}

/// The script with its managed section replaced by `section` (or removed with `None`), or
/// `section` put on top if the script has none. The rest is kept byte for byte.
pub fn merge(script: &str, section: Option<&str>) -> String {
    let span = find_line(script, BEGIN, 0)
        .and_then(|b| find_line(script, END, b).map(|e| (b, line_end(script, e))));
    let (before, after) = match span {
        Some((b, e)) => (&script[..b], &script[e..]),
        None => ("", script),
    };
    let mut out = String::with_capacity(script.len() + section.map_or(0, str::len));
    out.push_str(before);
    if let Some(s) = section {
        out.push_str(s);
    }
    out.push_str(after);
    out
}

/// The user's part of a script: everything outside the managed section.
pub fn own_rules(script: &str) -> String {
    merge(script, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "require \"fileinto\";\r\nif header :contains \"subject\" \"x\" {\r\n  fileinto \"X\";\r\n}\r\n";

    fn vacation() -> Settings {
        Settings {
            vacation: Some(Vacation {
                enabled: true,
                subject: "Away \"now\"".into(),
                body: "Back on Monday.\nC:\\temp".into(),
                start: Some("2026-07-01".into()),
                end: Some("2026-07-31".into()),
                days: Some(5),
                addresses: vec!["alias@example.com".into()],
            }),
            forwards: None,
        }
    }

    fn compiles(script: &str) {
        if let Err(e) = ::sieve::Compiler::new().compile(script.as_bytes()) {
            panic!("{e}\n{script}");
        }
    }

    #[test]
    fn section_goes_on_top_and_own_rules_stay() {
        let section = render(&vacation()).unwrap();
        let merged = merge(OWN, Some(&section));
        assert!(merged.starts_with(BEGIN));
        assert!(merged.ends_with(OWN));
        assert!(merged.contains(":days 5"));
        assert!(merged.contains("\"Away \\\"now\\\"\""));
        assert!(merged.contains("C:\\\\temp"));
        compiles(&merged);
    }

    #[test]
    fn section_is_replaced_in_place() {
        let first = merge(OWN, Some(&render(&vacation()).unwrap()));
        let fwd = Settings {
            vacation: None,
            forwards: Some(Forwards {
                addresses: vec!["a@example.net".into(), "b@example.net".into()],
                keep_copy: false,
            }),
        };
        let second = merge(&first, Some(&render(&fwd).unwrap()));
        assert!(!second.contains("vacation :days"));
        assert!(
            second.contains("redirect \"a@example.net\";\r\nredirect \"b@example.net\";\r\nstop;")
        );
        assert!(second.ends_with(OWN));
        assert_eq!(second.matches(BEGIN).count(), 1);
        compiles(&second);
    }

    #[test]
    fn section_in_the_middle_keeps_both_sides() {
        let script = format!("# mine first\r\n{}{OWN}", render(&vacation()).unwrap());
        let merged = merge(&script, None);
        assert_eq!(merged, format!("# mine first\r\n{OWN}"));
    }

    #[test]
    fn section_is_removed_when_everything_is_off() {
        let merged = merge(OWN, Some(&render(&vacation()).unwrap()));
        let off = Settings {
            vacation: Some(Vacation {
                enabled: false,
                ..Vacation::default()
            }),
            forwards: Some(Forwards::default()),
        };
        assert_eq!(render(&off), None);
        assert_eq!(merge(&merged, render(&off).as_deref()), OWN);
    }

    #[test]
    fn forwards_with_a_copy_use_redirect_copy() {
        let s = Settings {
            vacation: None,
            forwards: Some(Forwards {
                addresses: vec!["a@example.net".into()],
                keep_copy: true,
            }),
        };
        let section = render(&s).unwrap();
        assert!(section.contains("require [\"copy\"];"));
        assert!(section.contains("redirect :copy \"a@example.net\";"));
        assert!(!section.contains("stop;"));
        compiles(&merge("", Some(&section)));
    }

    #[test]
    fn vacation_without_dates_has_no_date_test() {
        let mut s = vacation();
        if let Some(v) = s.vacation.as_mut() {
            v.start = None;
            v.end = None;
        }
        let section = render(&s).unwrap();
        assert!(!section.contains("currentdate"));
        compiles(&section);
    }

    #[test]
    fn an_unterminated_section_is_left_as_the_users_text() {
        let broken = format!("{BEGIN}\r\nkeep;\r\n");
        let merged = merge(&broken, Some(&render(&vacation()).unwrap()));
        assert!(merged.ends_with(&broken));
    }

    #[test]
    fn markers_count_only_at_the_start_of_a_line() {
        let script = format!("# note: {BEGIN}\r\nkeep;\r\n");
        assert_eq!(merge(&script, None), script);
    }

    #[test]
    fn validation_refuses_bad_settings() {
        let own = "me@example.com";
        let bad_date = Vacation {
            enabled: true,
            body: "x".into(),
            start: Some("2026-13-01".into()),
            ..Vacation::default()
        };
        assert!(bad_date.validated(own).is_err());
        let reversed = Vacation {
            enabled: true,
            body: "x".into(),
            start: Some("2026-02-01".into()),
            end: Some("2026-01-01".into()),
            ..Vacation::default()
        };
        assert!(reversed.validated(own).is_err());
        let no_body = Vacation {
            enabled: true,
            ..Vacation::default()
        };
        assert!(no_body.validated(own).is_err());
        let newline = Vacation {
            enabled: true,
            body: "x".into(),
            subject: "a\r\nBcc: x@y".into(),
            ..Vacation::default()
        };
        assert!(newline.validated(own).is_err());
        let to_self = Forwards {
            addresses: vec!["Me@Example.com".into()],
            keep_copy: false,
        };
        assert!(to_self.validated(own).is_err());
        let too_many = Forwards {
            addresses: (0..=MAX_FORWARDS)
                .map(|i| format!("f{i}@example.net"))
                .collect(),
            keep_copy: true,
        };
        assert!(too_many.validated(own).is_err());
    }
}
