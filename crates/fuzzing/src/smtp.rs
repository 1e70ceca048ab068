//! SMTP command lines (RFC 5321 §4.1) as the inbound session parses them.
//!
//! The input is cut into lines at LF (a CR before it dropped), as the session's reader does.
//! Every line that parses is written back and must parse to the same command; the SASL
//! helpers run on AUTH's initial response.

use marque_hosting::outbound::Ret;
use marque_smtp::inbound::cmd::mail::Body;
use marque_smtp::inbound::cmd::{self, Command};

/// The fuzz target `smtp_command`.
pub fn smtp_command(data: &[u8]) {
    for line in data.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(c) = cmd::parse(line) else {
            continue;
        };
        let wire = render(&c);
        assert_eq!(
            cmd::parse(wire.as_bytes()).as_ref(),
            Ok(&c),
            "{line:?} written as {wire:?}"
        );
        if let Command::Auth(a) = &c
            && let Some(i) = &a.initial
        {
            let _ = marque_session::sasl::plain(i.as_bytes());
        }
    }
}

fn render(c: &Command) -> String {
    match c {
        Command::Ehlo(h) => format!("EHLO {h}"),
        Command::Helo(h) => format!("HELO {h}"),
        Command::Mail(m) => {
            let mut s = format!("MAIL FROM:<{}>", m.from);
            if let Some(n) = m.size {
                s.push_str(&format!(" SIZE={n}"));
            }
            if m.body == Body::EightBitMime {
                s.push_str(" BODY=8BITMIME");
            }
            if m.smtputf8 {
                s.push_str(" SMTPUTF8");
            }
            match m.ret {
                Some(Ret::Full) => s.push_str(" RET=FULL"),
                Some(Ret::Hdrs) => s.push_str(" RET=HDRS"),
                None => {}
            }
            if let Some(e) = &m.envid {
                s.push_str(&format!(" ENVID={e}"));
            }
            s
        }
        Command::Rcpt(r) => {
            let mut s = format!("RCPT TO:<{}>", r.to);
            if let Some(n) = &r.notify {
                let words: Vec<&str> = [
                    (n.never, "NEVER"),
                    (n.success, "SUCCESS"),
                    (n.failure, "FAILURE"),
                    (n.delay, "DELAY"),
                ]
                .into_iter()
                .filter_map(|(on, w)| on.then_some(w))
                .collect();
                s.push_str(&format!(" NOTIFY={}", words.join(",")));
            }
            if let Some(o) = &r.orcpt {
                s.push_str(&format!(" ORCPT={o}"));
            }
            s
        }
        Command::Bdat(b) => format!("BDAT {}{}", b.size, if b.last { " LAST" } else { "" }),
        Command::Auth(a) => {
            let mech = a.mechanism.map(|m| m.name()).unwrap_or("X-UNKNOWN");
            match &a.initial {
                Some(i) => format!("AUTH {mech} {i}"),
                None => format!("AUTH {mech}"),
            }
        }
        Command::Data => "DATA".into(),
        Command::Rset => "RSET".into(),
        Command::Noop => "NOOP".into(),
        Command::Quit => "QUIT".into(),
        Command::Vrfy => "VRFY".into(),
        Command::Expn => "EXPN".into(),
        Command::Help => "HELP".into(),
        Command::StartTls => "STARTTLS".into(),
    }
}
