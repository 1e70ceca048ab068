//! `marque domain dns`: a domain's expected DNS records as a table, one row per record with
//! its state, then what was found and why for every record that is not right.

use std::io::Write;

use marque_hosting::dns::{DnsStatus, Status};

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Missing => "missing",
        Status::Wrong => "wrong",
        Status::Error => "error",
        Status::Pending => "pending",
    }
}

/// A time in ms since the epoch as RFC 3339 (UTC), or `never`.
fn when(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return "never".into();
    };
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// Writes the table of `status`.
pub fn print(out: &mut impl Write, status: &DnsStatus) -> std::io::Result<()> {
    let s = &status.summary;
    writeln!(
        out,
        "{}: {} ({} ok, {} wrong, {} missing, {} error, {} not checked); last check {}",
        status.domain,
        s.status.map(status_name).unwrap_or("pending"),
        s.ok,
        s.wrong,
        s.missing,
        s.error,
        s.pending,
        when(status.checked_ms)
    )?;
    let width = status
        .records
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:<7} {:<8} {:<width$} EXPECTED",
        "STATUS", "TYPE", "NAME"
    )?;
    for r in &status.records {
        writeln!(
            out,
            "{:<7} {:<8} {:<width$} {}",
            status_name(r.status),
            r.rtype.as_str(),
            r.name,
            r.expected
        )?;
        let pad = " ".repeat(7 + 1 + 8 + 1 + width + 1);
        if r.status != Status::Ok {
            for f in &r.found {
                writeln!(out, "{pad}found: {f}")?;
            }
            if let Some(d) = &r.detail {
                writeln!(out, "{pad}why: {d}")?;
            }
        }
        if let Some(w) = &r.warning {
            writeln!(out, "{pad}warning: {w}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use marque_hosting::dns::{Purpose, RecordStatus, RecordType, Summary};

    #[test]
    fn a_wrong_record_shows_what_was_found_and_why() {
        let status = DnsStatus {
            domain: "c.example".into(),
            checked_ms: Some(1_795_219_200_000),
            summary: Summary {
                status: Some(Status::Wrong),
                ok: 0,
                wrong: 1,
                ..Summary::default()
            },
            records: vec![RecordStatus {
                rtype: RecordType::Mx,
                name: "c.example".into(),
                expected: "10 mail.c.example".into(),
                purpose: Purpose::Mx,
                status: Status::Wrong,
                found: vec!["10 mx.other.test".into()],
                detail: Some("no MX points to mail.c.example".into()),
                warning: None,
                last_check_ms: Some(1_795_219_200_000),
            }],
        };
        let mut out = Vec::new();
        print(&mut out, &status).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("c.example: wrong (0 ok, 1 wrong"),
            "{text}"
        );
        assert!(
            text.contains("2026-11-22T00:00:00Z") || text.contains("2026-11-21"),
            "{text}"
        );
        assert!(
            text.contains("wrong   MX       c.example 10 mail.c.example"),
            "{text}"
        );
        assert!(text.contains("found: 10 mx.other.test"), "{text}");
        assert!(
            text.contains("why: no MX points to mail.c.example"),
            "{text}"
        );
    }
}
