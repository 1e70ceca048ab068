//! The message authentication step at the end of DATA: on port 25 the SPF, DKIM, ARC and
//! DMARC checks (with the DMARC policy applied), on submission the DKIM signatures.

use marque_delivery::AuthResults;
use tracing::{info, warn};

use super::Transaction;
use crate::inbound::context::{Context, Helo, Service};
use crate::inbound::reply::Reply;
use crate::msgauth::sign;
use crate::msgauth::verify::{self, Disposition, Envelope};

impl Transaction {
    /// Checks or signs `body`; returns the header fields to put before it, or the reply that
    /// refuses it (the record is written). On port 25, results that claim to be ours are
    /// removed from `body` after the checks.
    pub(super) async fn verify_or_sign(
        &mut self,
        s: &mut Context,
        helo: &Helo,
        body: &mut Vec<u8>,
    ) -> Result<String, Reply> {
        if s.service != Service::Mx {
            return Ok(self.sign(s, body).await);
        }
        let v = verify::verify(
            s.msgauth.authenticator.as_ref(),
            Envelope {
                client_ip: s.peer.ip(),
                helo: &helo.name,
                mail_from: &self.mail.from,
                hostname: &s.cfg.hostname,
            },
            body,
            s.cfg.auth_deadline,
        )
        .await;
        s.note(format!(
            "S: (spf={} dkim={} dmarc={} arc={})",
            v.spf, v.dkim, v.dmarc, v.arc
        ));
        self.auth = Some(AuthResults {
            spf: v.spf.clone(),
            dkim: v.dkim.clone(),
            dmarc: v.dmarc.clone(),
            arc: v.arc.clone(),
            header_from: v.header_from.clone(),
            junk: v.disposition == Disposition::Quarantine,
        });
        let mut added = v.header;
        match v.disposition {
            Disposition::Reject if s.cfg.dmarc_reject => {
                info!(domain = %v.header_from, "refused by the DMARC policy (p=reject)");
                let reply = Reply::new(
                    550,
                    "5.7.1",
                    format!(
                        "Message refused: DMARC policy of {} (p=reject)",
                        v.header_from
                    ),
                );
                self.refuse_all_now(s, helo, "DMARC policy reject").await;
                return Err(reply);
            }
            Disposition::Quarantine => {
                // The mark Sieve scripts and clients can file on.
                added.push_str(&format!(
                    "X-Marque-Junk: DMARC policy quarantine ({})\r\n",
                    v.header_from
                ));
            }
            _ => {}
        }
        if let Some(clean) = verify::strip_forged_results(body, &s.cfg.hostname) {
            info!("removed Authentication-Results fields that claimed our name");
            *body = clean;
        }
        Ok(added)
    }

    /// DKIM signatures of the sender's domain; unsigned (with a warning) if that fails, so
    /// that a key problem never loses mail.
    async fn sign(&self, s: &Context, body: &[u8]) -> String {
        let domain = match self.mail.from.rsplit_once('@') {
            Some((_, d)) => d.to_string(),
            None => match s.user.as_ref().and_then(|u| u.login.rsplit_once('@')) {
                Some((_, d)) => d.to_string(),
                None => return String::new(),
            },
        };
        match sign::sign(&s.core, &domain, body).await {
            Ok(h) => h,
            Err(e) => {
                warn!(error = %e, %domain, "message left unsigned");
                String::new()
            }
        }
    }
}
