//! Inbound checks on port 25: SPF for the HELO and MAIL FROM identities (RFC 7208), the DKIM
//! signatures (RFC 6376, RFC 8463), the ARC chain (RFC 8617) and DMARC (RFC 7489) over the SPF
//! and DKIM results, summed up in an `Authentication-Results:` header (RFC 8601).
//!
//! Every DNS question goes through one [`MessageAuthenticator`] per process. The whole check
//! has a deadline: what has not answered by then counts as `temperror` (RFC 7208 §2.6.6,
//! RFC 8601 §2.7.1), and the message is never refused for a DNS failure alone.

use std::net::IpAddr;
use std::time::Duration;

use mail_auth::dmarc::Policy;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult, DmarcResult,
    MessageAuthenticator, SpfOutput, SpfResult, dmarc::verify::DmarcParameters,
    spf::verify::SpfParameters,
};
use tracing::{debug, warn};

/// What the envelope and the connection say about a message.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub client_ip: IpAddr,
    pub helo: &'a str,
    /// The MAIL FROM address; empty for the null sender.
    pub mail_from: &'a str,
    /// Our own name (SPF's `%{r}` macro and the header's authserv-id).
    pub hostname: &'a str,
}

/// The DMARC policy of the author's domain, when its check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Deliver as usual.
    Accept,
    /// `p=quarantine`: deliver, marked as junk.
    Quarantine,
    /// `p=reject`: refuse at the end of DATA (when configured to).
    Reject,
}

/// The results, owned, for the header, the log record and the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror` (MAIL FROM).
    pub spf: String,
    /// The best DKIM result over every signature (`none` without a signature).
    pub dkim: String,
    /// `pass`, `fail`, `none`, `temperror`, `permerror`.
    pub dmarc: String,
    /// `pass`, `fail`, `none`...
    pub arc: String,
    /// The author domain (RFC 5322 From) the DMARC check was for.
    pub header_from: String,
    /// What DMARC asks of a failing message.
    pub disposition: Disposition,
    /// The `Authentication-Results:` field, CRLF-terminated.
    pub header: String,
}

impl Verdict {
    /// Every check a `temperror`: used when the deadline passes or no resolver is available.
    pub fn temperror(hostname: &str, why: &str) -> Verdict {
        let t = "temperror".to_string();
        Verdict {
            spf: t.clone(),
            dkim: t.clone(),
            dmarc: t.clone(),
            arc: t,
            header_from: String::new(),
            disposition: Disposition::Accept,
            header: format!(
                "Authentication-Results: {hostname};\r\n\tspf=temperror reason=\"{why}\";\r\n\tdkim=temperror;\r\n\tdmarc=temperror\r\n"
            ),
        }
    }
}

fn spf_name(r: SpfResult) -> &'static str {
    match r {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// `mail-auth` reports a body that does not match its hash as `neutral`; RFC 8601 §2.7.1
/// calls a signature that fails verification `fail`, and so do we.
fn body_hash_failed(r: &DkimResult) -> bool {
    matches!(
        r,
        DkimResult::Neutral(mail_auth::Error::Dkim(
            mail_auth::dkim::DkimError::FailedBodyHashMatch
        ))
    )
}

fn dkim_name(r: &DkimResult) -> &'static str {
    match r {
        DkimResult::Pass => "pass",
        r if body_hash_failed(r) => "fail",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

fn dmarc_name(r: &DmarcResult) -> &'static str {
    match r {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

/// One result for all signatures: a pass wins, then the first signature's result.
fn best_dkim(outputs: &[DkimOutput<'_>]) -> &'static str {
    if outputs.iter().any(|o| o.result() == &DkimResult::Pass) {
        "pass"
    } else {
        outputs
            .first()
            .map(|o| dkim_name(o.result()))
            .unwrap_or("none")
    }
}

/// Runs every check on `message` (as received, before our trace headers), within `deadline`.
pub async fn verify(
    auth: Option<&MessageAuthenticator>,
    env: Envelope<'_>,
    message: &[u8],
    deadline: Duration,
) -> Verdict {
    let Some(auth) = auth else {
        return Verdict::temperror(env.hostname, "no DNS resolver");
    };
    match tokio::time::timeout(deadline, checks(auth, env, message)).await {
        Ok(v) => v,
        Err(_) => {
            warn!(ip = %env.client_ip, "message authentication timed out");
            Verdict::temperror(env.hostname, "DNS timeout")
        }
    }
}

async fn checks(auth: &MessageAuthenticator, env: Envelope<'_>, message: &[u8]) -> Verdict {
    let helo = env.helo;
    let ip = env.client_ip;
    let spf_helo = auth
        .verify_spf(SpfParameters::verify_ehlo(ip, helo, env.hostname))
        .await;
    // RFC 7208 §2.4: for the null sender the MAIL FROM identity is postmaster@HELO, whose
    // check was just made.
    let spf_from: SpfOutput = if env.mail_from.is_empty() {
        spf_helo.clone()
    } else {
        auth.verify_spf(SpfParameters::verify_mail_from(
            ip,
            helo,
            env.hostname,
            env.mail_from,
        ))
        .await
    };
    let mail_from_domain = env
        .mail_from
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or(helo)
        .to_ascii_lowercase();

    let Some(msg) = AuthenticatedMessage::parse(message) else {
        // No header section to speak of: SPF still counts, DKIM and DMARC have nothing to see.
        let header = format!(
            "{}\r\n",
            AuthenticationResults::new(env.hostname)
                .with_spf_ehlo_result(&spf_helo, ip, helo)
                .with_spf_mailfrom_result(&spf_from, ip, env.mail_from, helo)
        );
        return Verdict {
            spf: spf_name(spf_from.result()).into(),
            dkim: "none".into(),
            dmarc: "none".into(),
            arc: "none".into(),
            header_from: String::new(),
            disposition: Disposition::Accept,
            header: format!("Authentication-Results: {header}"),
        };
    };
    let dkim = auth.verify_dkim(&msg).await;
    let arc = auth.verify_arc(&msg).await;
    let dmarc = auth
        .verify_dmarc(DmarcParameters::new(
            &msg,
            &dkim,
            &mail_from_domain,
            &spf_from,
        ))
        .await;
    let header_from = msg.from().to_string();
    let results = AuthenticationResults::new(env.hostname)
        .with_dkim_results(&dkim, &header_from)
        .with_spf_ehlo_result(&spf_helo, ip, helo)
        .with_spf_mailfrom_result(&spf_from, ip, env.mail_from, helo)
        .with_arc_result(&arc, ip)
        .with_dmarc_result(&dmarc);
    let dmarc_result = dmarc.result();
    let disposition = match (&dmarc_result, dmarc.policy()) {
        (DmarcResult::Fail(_), Policy::Reject) => Disposition::Reject,
        (DmarcResult::Fail(_), Policy::Quarantine) => Disposition::Quarantine,
        _ => Disposition::Accept,
    };
    let header = format!("Authentication-Results: {results}\r\n").replace(
        "dkim=neutral (body hash did not verify)",
        "dkim=fail (body hash did not verify)",
    );
    let verdict = Verdict {
        spf: spf_name(spf_from.result()).into(),
        dkim: best_dkim(&dkim).into(),
        dmarc: dmarc_name(&dmarc_result).into(),
        arc: dkim_name(arc.result()).into(),
        header_from: dmarc.domain().to_string(),
        disposition,
        header,
    };
    debug!(
        spf = %verdict.spf,
        dkim = %verdict.dkim,
        dmarc = %verdict.dmarc,
        arc = %verdict.arc,
        "message authentication"
    );
    verdict
}

/// Removes the `Authentication-Results:` fields that claim to come from `hostname` (RFC 8601
/// §5: a sender must not be able to hand us results we would appear to have written). Only
/// the header section is looked at; the result is `None` when there is nothing to remove.
pub fn strip_forged_results(message: &[u8], hostname: &str) -> Option<Vec<u8>> {
    const NAME: &[u8] = b"authentication-results:";
    let mut out = Vec::with_capacity(message.len());
    let mut pos = 0;
    let mut removed = false;
    let mut dropping = false;
    while pos < message.len() {
        let end = message[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| pos + i + 1);
        let line = &message[pos..end];
        if line == b"\r\n" || line == b"\n" {
            // End of the header section: the body is copied as it is.
            out.extend_from_slice(&message[pos..]);
            break;
        }
        let continuation = matches!(line.first(), Some(b' ') | Some(b'\t'));
        if !continuation {
            dropping = line.len() > NAME.len()
                && line[..NAME.len()].eq_ignore_ascii_case(NAME)
                && claims(&line[NAME.len()..], hostname);
            removed |= dropping;
        }
        if !dropping {
            out.extend_from_slice(line);
        }
        pos = end;
    }
    removed.then_some(out)
}

/// True if the field value's authserv-id (RFC 8601 §2.5) is `hostname`.
fn claims(value: &[u8], hostname: &str) -> bool {
    let value = String::from_utf8_lossy(value);
    let id = value
        .trim_start()
        .split(|c: char| c == ';' || c.is_whitespace())
        .next()
        .unwrap_or("");
    id.eq_ignore_ascii_case(hostname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_results_for_our_name_are_removed() {
        let m = b"From: a@b.example\r\nAuthentication-Results: MX.example;\r\n\tdkim=pass\r\nAuthentication-Results: other.example; spf=pass\r\nSubject: x\r\n\r\nAuthentication-Results: mx.example; body\r\n";
        let out = strip_forged_results(m, "mx.example").expect("removed");
        assert_eq!(
            out,
            b"From: a@b.example\r\nAuthentication-Results: other.example; spf=pass\r\nSubject: x\r\n\r\nAuthentication-Results: mx.example; body\r\n"
        );
        assert_eq!(strip_forged_results(&out, "mx.example"), None);
    }
}
