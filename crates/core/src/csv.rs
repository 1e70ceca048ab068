//! The one CSV writer: every CSV the platform produces is built here, so that every cell is
//! quoted per RFC 4180 and no cell reaches a spreadsheet as a formula.
//!
//! Formula neutralisation follows OWASP's "CSV Injection" guidance: a cell that starts with
//! `=`, `+`, `-`, `@`, a tab or a carriage return is read by spreadsheet programs as a formula
//! (or, for tab and CR, shifted so that the next character is), so it is written with a leading
//! `'`, which spreadsheets show as text, and quoted. Everything else is written as it is.

use std::borrow::Cow;

/// Characters that make a spreadsheet read a cell as a formula when they come first.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One cell as it goes into a CSV line: neutralised (see the module doc) and quoted when it
/// holds a comma, a quote, CR or LF (RFC 4180 §2, rules 6 and 7).
pub fn cell(s: &str) -> Cow<'_, str> {
    let formula = s.starts_with(FORMULA_START);
    if !formula && !s.contains([',', '"', '\r', '\n']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 3);
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&s.replace('"', "\"\""));
    out.push('"');
    Cow::Owned(out)
}

/// A CSV document: a header line, then records, each ended by CRLF (RFC 4180 §2, rules 1-3).
#[derive(Debug, Clone)]
pub struct Writer {
    out: String,
    columns: usize,
}

impl Writer {
    /// A document whose first line names the columns.
    pub fn new(header: &[&str]) -> Writer {
        let mut w = Writer {
            out: String::new(),
            columns: header.len(),
        };
        w.record(header);
        w
    }

    /// Appends one record; every record has as many fields as the header (RFC 4180 §2,
    /// rule 4): missing ones are written empty, extra ones are dropped.
    pub fn record<S: AsRef<str>>(&mut self, fields: &[S]) {
        for i in 0..self.columns {
            if i > 0 {
                self.out.push(',');
            }
            if let Some(f) = fields.get(i) {
                self.out.push_str(&cell(f.as_ref()));
            }
        }
        self.out.push_str("\r\n");
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_neutralised() {
        let cases = [
            ("plain", "plain"),
            ("Acme, \"the\" best", "\"Acme, \"\"the\"\" best\""),
            ("two\r\nlines", "\"two\r\nlines\""),
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("@SUM(1)", "\"'@SUM(1)\""),
            ("+1", "\"'+1\""),
            ("-1", "\"'-1\""),
            ("\tX", "\"'\tX\""),
            ("\rX", "\"'\rX\""),
            ("a=b", "a=b"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(cell(input), want, "{input:?}");
        }
    }

    #[test]
    fn records_have_the_header_width() {
        let mut w = Writer::new(&["a", "b"]);
        w.record(&["1", "=2", "dropped"]);
        w.record(&["only"]);
        assert_eq!(w.finish(), "a,b\r\n1,\"'=2\"\r\nonly,\r\n");
    }
}
