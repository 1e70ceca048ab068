//! One delivery attempt of one queued message: its pending recipients grouped by domain, each
//! domain's MX hosts tried in order, local recipients (DSNs to our own users) delivered into
//! their mailboxes, then the outcome saved: delivered, retried later with backoff, or failed
//! with a DSN to the sender, in one durable write.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use marque_core::Recipient;
use marque_delivery::{
    Delivery, LocalRecipient, Outcome as LogOutcome, RecipientRecord, RecipientResult,
    TransactionRecord,
};
use marque_hosting::outbound::{
    self, Claimed, Finished, Kind, Notify, OutboundIdentity, QueuedMessage, RcptStatus,
};
use marque_store::blob::PreparedBlob;
use tracing::{info, warn};

use super::client::{ClientError, Envelope, Session};
use super::dns::RouteError;
use super::dsn::{self, Action, Report};
use super::{Context, now_ms};

/// What one attempt did for one recipient.
#[derive(Debug, Clone)]
enum Result1 {
    /// Accepted (already marked durably); `report` is the success DSN's action when one is
    /// ours to send (`None` when the next hop takes the DSN request on).
    Delivered {
        report: Option<Action>,
        /// The accepting reply and who gave it.
        reply: String,
        host: String,
    },
    Temporary {
        reply: String,
        host: Option<String>,
    },
    Permanent {
        reply: String,
        host: Option<String>,
    },
}

type Results = HashMap<String, Result1>;

fn all(addrs: &[String], r: Result1) -> Results {
    addrs.iter().map(|a| (a.clone(), r.clone())).collect()
}

/// The stored body without the `Return-Path:` our own trace added on arrival (RFC 5321
/// §4.4: the field belongs to the final delivery, not to relaying).
fn relay_body(stored: &[u8]) -> &[u8] {
    if stored.len() >= 12 && stored[..12].eq_ignore_ascii_case(b"return-path:") {
        let mut i = 0;
        while let Some(nl) = stored[i..].iter().position(|&b| b == b'\n') {
            i += nl + 1;
            if !matches!(stored.get(i), Some(b' ' | b'\t')) {
                return &stored[i..];
            }
        }
    }
    stored
}

/// Runs the attempt; errors leave the entry to come back when its lease runs out.
pub(super) async fn run(ctx: &Context, claimed: Claimed) {
    let id = claimed.id;
    if let Err(e) = attempt(ctx, id, claimed.message).await {
        warn!(queue_id = id, error = %e, "delivery attempt failed; retried after the lease");
    }
}

async fn attempt(ctx: &Context, id: u64, mut m: QueuedMessage) -> anyhow::Result<()> {
    m.attempts += 1;
    let store = ctx.core.store().clone();
    let hash = m.blob;
    let body =
        tokio::task::spawn_blocking(move || marque_store::blob::read(&store, &hash)).await??;
    let mut results = Results::new();
    match &body {
        None => {
            let addrs: Vec<String> = m.pending().map(|r| r.address.clone()).collect();
            results = all(
                &addrs,
                Result1::Permanent {
                    reply: "554 5.3.0 the message body is missing from the store".into(),
                    host: None,
                },
            );
        }
        Some(body) => {
            let identity =
                marque_hosting::outbound::outbound_identity(&ctx.core, m.tenant, m.domain.clone())
                    .await
                    .unwrap_or_default();
            let mut by_domain: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in m.pending() {
                by_domain
                    .entry(r.domain())
                    .or_default()
                    .push(r.address.clone());
            }
            for (domain, addrs) in by_domain {
                let r = if ctx.core.is_local_domain(&domain).await.unwrap_or(false) {
                    local(ctx, id, &m, &addrs, body).await
                } else {
                    remote(ctx, id, &m, &domain, &addrs, body, &identity).await
                };
                results.extend(r);
            }
        }
    }
    settle(ctx, id, m, results, body.as_deref()).await
}

/// Applies the results: statuses, backoff, expiry, DSN; one durable write.
async fn settle(
    ctx: &Context,
    id: u64,
    mut m: QueuedMessage,
    results: Results,
    body: Option<&[u8]>,
) -> anyhow::Result<()> {
    let now = now_ms();
    let cfg = &ctx.cfg;
    let expired = now.saturating_sub(m.created_ms) >= cfg.max_age_ms;
    let mut failed_idx = Vec::new();
    // Successes and delays to report: (recipient index, action).
    let mut reports: Vec<(usize, Action)> = Vec::new();
    let delayed = now.saturating_sub(m.created_ms) >= cfg.delay_warning_ms;
    for (i, r) in m.recipients.iter_mut().enumerate() {
        if r.status != RcptStatus::Pending {
            continue;
        }
        let Some(res) = results.get(&r.address) else {
            continue;
        };
        r.attempts += 1;
        match res {
            Result1::Delivered {
                report,
                reply,
                host,
            } => {
                r.status = RcptStatus::Delivered;
                r.last_reply = reply.clone();
                r.remote_host = Some(host.clone());
                if let Some(action) = report
                    && Notify::wants_success(r.notify)
                {
                    reports.push((i, *action));
                }
            }
            Result1::Permanent { reply, host } => {
                r.status = RcptStatus::Failed;
                r.last_reply = reply.clone();
                r.remote_host = host.clone().or(r.remote_host.take());
                failed_idx.push((i, false));
            }
            Result1::Temporary { reply, host } => {
                r.last_reply = reply.clone();
                r.remote_host = host.clone().or(r.remote_host.take());
                if expired {
                    r.status = RcptStatus::Failed;
                    failed_idx.push((i, true));
                } else if delayed && !r.delay_reported && Notify::wants_delay(r.notify) {
                    // One "delayed" DSN per recipient (RFC 3461 §4.1 leaves how many to us).
                    r.delay_reported = true;
                    reports.push((i, Action::Delayed));
                }
            }
        }
    }
    let next = now.saturating_add(outbound::backoff_ms(
        m.attempts,
        cfg.retry_initial_ms,
        cfg.retry_factor,
        cfg.retry_max_delay_ms,
    ));
    // Never a DSN about a DSN (RFC 3461 §6.2 and RFC 5321 §4.5.5).
    let mut wanted: Vec<Report<'_>> = failed_idx
        .iter()
        .map(|&(i, expired)| (&m.recipients[i], expired))
        .filter(|(r, _)| Notify::wants_failure(r.notify))
        .map(|(r, expired)| Report {
            recipient: r,
            action: Action::Failed,
            status: if expired {
                "4.4.7".to_string()
            } else {
                dsn::enhanced_status(&r.last_reply).unwrap_or_else(|| "5.0.0".into())
            },
            diagnostic: if expired {
                format!(
                    "gave up after {} attempts; last: {}",
                    r.attempts, r.last_reply
                )
            } else {
                r.last_reply.clone()
            },
        })
        .collect();
    wanted.extend(reports.iter().map(|&(i, action)| {
        let r = &m.recipients[i];
        Report {
            recipient: r,
            action,
            status: match action {
                Action::Delayed => {
                    dsn::enhanced_status(&r.last_reply).unwrap_or_else(|| "4.0.0".into())
                }
                _ => "2.0.0".into(),
            },
            diagnostic: r.last_reply.clone(),
        }
    }));
    let bounce = if m.kind != Kind::Bounce && !m.sender.is_empty() && !wanted.is_empty() {
        let original = body.map(relay_body).unwrap_or(b"");
        let until = m.created_ms.saturating_add(cfg.max_age_ms);
        let (raw, entry) = dsn::build(&cfg.hostname, &m, original, &wanted, now, until);
        let prepared = PreparedBlob::new(ctx.core.store(), &raw)?;
        Some((entry, prepared))
    } else {
        None
    };
    drop(wanted);
    for (i, _) in &failed_idx {
        let r = &m.recipients[*i];
        info!(queue_id = id, recipient = %r.address, reply = %r.last_reply, "delivery failed");
    }
    let node = ctx.cfg.node.clone();
    let finished = ctx
        .core
        .store()
        .transact(move |txn| -> Result<_, marque_core::CoreError> {
            let finished = outbound::finish_attempt(txn, id, &node, &m, next)?;
            // The report belongs to the outcome: dropped with it when the lease was lost.
            if finished != Finished::LeaseLost
                && let Some((entry, blob)) = bounce
            {
                outbound::queue_message(txn, entry, &blob)?;
            }
            Ok(finished)
        })
        .await?;
    if finished == Finished::LeaseLost {
        warn!(
            queue_id = id,
            "lease lost during the attempt; its outcome is dropped, the new holder retries"
        );
    }
    Ok(())
}

/// Marks recipients delivered in their own durable write, before anything else.
async fn mark(ctx: &Context, id: u64, addrs: Vec<String>, reply: String, host: String) {
    for _ in 0..3 {
        let (a, r, h) = (addrs.clone(), reply.clone(), host.clone());
        let node = ctx.cfg.node.clone();
        match ctx
            .core
            .store()
            .transact(move |txn| outbound::mark_delivered(txn, id, &node, &a, &r, &h))
            .await
        {
            Ok(Some(_)) => return,
            Ok(None) => {
                warn!(
                    queue_id = id,
                    "lease lost before the delivery was recorded; the new holder sends again"
                );
                return;
            }
            Err(e) if e.is_not_found() => return,
            Err(e) => warn!(queue_id = id, error = %e, "cannot record a delivery; retrying"),
        }
    }
}

/// Local recipients: straight into their INBOX.
async fn local(
    ctx: &Context,
    id: u64,
    m: &QueuedMessage,
    addrs: &[String],
    body: &[u8],
) -> Results {
    let mut results = Results::new();
    let mut recipients = Vec::new();
    for a in addrs {
        match ctx.core.resolve_address(a).await {
            Ok(Some(Recipient::Mailbox {
                account,
                tenant,
                active: true,
                ..
            })) => recipients.push(LocalRecipient {
                address: a.to_ascii_lowercase(),
                account,
                tenant,
            }),
            Ok(_) => {
                results.insert(
                    a.clone(),
                    Result1::Permanent {
                        reply: "550 5.1.1 no such local mailbox".into(),
                        host: None,
                    },
                );
            }
            Err(e) => {
                results.insert(
                    a.clone(),
                    Result1::Temporary {
                        reply: format!("451 4.3.0 lookup failure: {e}"),
                        host: None,
                    },
                );
            }
        }
    }
    if recipients.is_empty() {
        return results;
    }
    let mut raw = format!("Return-Path: <{}>\r\n", m.sender).into_bytes();
    raw.extend_from_slice(relay_body(body));
    let record = TransactionRecord {
        when: now_ms(),
        direction: "inbound".into(),
        service: "queue".into(),
        client_ip: "127.0.0.1".into(),
        server_ip: "127.0.0.1".into(),
        helo: ctx.cfg.hostname.clone(),
        sender: m.sender.clone(),
        message_id: m.message_id.clone(),
        conversation: vec![format!("(queue entry {id}, local delivery)")],
        ..TransactionRecord::default()
    };
    let delivery = Delivery {
        raw,
        sender: m.sender.clone(),
        recipients: recipients.clone(),
        record,
        extra_owners: vec![m.tenant],
    };
    match marque_delivery::deliver(&ctx.core, &ctx.cfg.delivery, delivery).await {
        Ok((outcomes, _)) => {
            let mut done = Vec::new();
            // Delivery itself bounces Sieve rejects when only some recipients reject; when all
            // do, it leaves the answer to us, and the DSN is ours to send.
            let all_rejected = outcomes
                .iter()
                .all(|o| matches!(o, RecipientResult::Rejected { .. }));
            for (r, o) in recipients.iter().zip(outcomes) {
                let res = match o {
                    RecipientResult::Delivered { .. }
                    | RecipientResult::Discarded
                    | RecipientResult::Redirected { .. } => {
                        done.push(r.address.clone());
                        local_ok(ctx, Some(Action::Delivered))
                    }
                    RecipientResult::Rejected { reason } if all_rejected => Result1::Permanent {
                        reply: format!("550 5.7.1 {reason}"),
                        host: None,
                    },
                    RecipientResult::Rejected { .. } => {
                        done.push(r.address.clone());
                        local_ok(ctx, None)
                    }
                    RecipientResult::OverQuota { reason } => Result1::Temporary {
                        reply: format!("452 4.2.2 mailbox full ({reason})"),
                        host: None,
                    },
                    RecipientResult::Failed { reason } => Result1::Temporary {
                        reply: format!("451 4.3.0 {reason}"),
                        host: None,
                    },
                };
                results.insert(r.address.clone(), res);
            }
            // Match the addresses as queued, not as lowercased for the log.
            let done: Vec<String> = addrs
                .iter()
                .filter(|a| done.iter().any(|d| d.eq_ignore_ascii_case(a)))
                .cloned()
                .collect();
            for a in &done {
                let res = results
                    .get(&a.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or_else(|| local_ok(ctx, Some(Action::Delivered)));
                results.insert(a.clone(), res);
            }
            if !done.is_empty() {
                mark(
                    ctx,
                    id,
                    done,
                    "250 2.0.0 delivered locally".into(),
                    ctx.cfg.hostname.clone(),
                )
                .await;
            }
        }
        Err(e) => {
            for r in &recipients {
                results.insert(
                    r.address.clone(),
                    Result1::Temporary {
                        reply: format!("451 4.3.0 local delivery: {e}"),
                        host: None,
                    },
                );
            }
        }
    }
    results
}

/// Remote recipients of one domain: the MX hosts in order until one takes the transaction.
async fn remote(
    ctx: &Context,
    id: u64,
    m: &QueuedMessage,
    domain: &str,
    addrs: &[String],
    body: &[u8],
    identity: &OutboundIdentity,
) -> Results {
    let hosts = match ctx.dns.route(domain).await {
        Ok(h) => h,
        Err(RouteError::Permanent(e)) => {
            return all(
                addrs,
                Result1::Permanent {
                    reply: format!("550 5.1.2 {e}"),
                    host: None,
                },
            );
        }
        Err(RouteError::Temporary(e)) => {
            return all(
                addrs,
                Result1::Temporary {
                    reply: format!("451 4.4.3 {e}"),
                    host: None,
                },
            );
        }
    };
    let source = identity.source_ip.or(ctx.cfg.source_ip);
    let ehlo = identity
        .ehlo
        .clone()
        .unwrap_or_else(|| ctx.cfg.hostname.clone());
    let recipients: Vec<(&str, String)> = m
        .recipients
        .iter()
        .filter(|r| addrs.contains(&r.address))
        .map(|r| {
            let mut p = String::new();
            if let Some(n) = r.notify {
                p.push_str(&format!(" NOTIFY={}", n.to_param()));
            }
            if let Some(o) = &r.orcpt {
                p.push_str(&format!(" ORCPT={o}"));
            }
            (r.address.as_str(), p)
        })
        .collect();
    let mut dsn_params = String::new();
    if let Some(ret) = m.ret {
        dsn_params.push_str(match ret {
            outbound::Ret::Full => " RET=FULL",
            outbound::Ret::Hdrs => " RET=HDRS",
        });
    }
    if let Some(envid) = &m.envid {
        dsn_params.push_str(&format!(" ENVID={envid}"));
    }
    let content = relay_body(body);
    let env = Envelope {
        sender: &m.sender,
        recipients,
        mail_params: if content.is_ascii() {
            String::new()
        } else {
            " BODY=8BITMIME".into()
        },
        dsn_mail_params: dsn_params,
        size: content.len() as u64,
    };
    let mut last = format!("451 4.4.1 no answer from any host for {domain}");
    for host in &hosts {
        for ip in &host.addrs {
            let peer = SocketAddr::new(*ip, ctx.cfg.port);
            let opened =
                Session::open(peer, source, &ehlo, &host.name, ctx.cfg.timeouts, &ctx.tls).await;
            let mut session = match opened {
                Ok(s) => s,
                Err(e @ ClientError::TlsRequired(_)) => {
                    warn!(queue_id = id, host = %host.name, %peer, error = %e, "not sent: TLS is required");
                    last = format!("451 4.7.10 {}: {e}", host.name);
                    continue;
                }
                Err(e) => {
                    info!(queue_id = id, host = %host.name, %peer, error = %e, "cannot open a session");
                    last = format!("451 4.4.1 {}: {e}", host.name);
                    continue;
                }
            };
            let sent = session.send(&env, content).await;
            let outcome = match sent {
                Ok(o) => o,
                Err(e) => {
                    last = format!("451 4.4.2 {}: {e}", host.name);
                    let talk = std::mem::take(&mut session.talk);
                    let results = all(addrs, temp(&last, host));
                    let remote = Remote::of(&session, &host.name, &ehlo);
                    write_record(ctx, m, remote, talk, addrs, &results).await;
                    continue;
                }
            };
            let mut results = Results::new();
            let mut delivered = Vec::new();
            for ((addr, _), rr) in env.recipients.iter().zip(&outcome.rcpt) {
                let res = if !rr.is_positive() {
                    classify(&rr.summary(), rr.is_permanent(), &host.name)
                } else {
                    match &outcome.data {
                        Some(d) if d.is_positive() => {
                            delivered.push(addr.to_string());
                            // RFC 3461 §6.2.1: a next hop with DSN was given the request
                            // and reports itself; otherwise the report ends here.
                            Result1::Delivered {
                                report: (!session.ext.dsn).then_some(Action::Relayed),
                                reply: d.summary(),
                                host: host.name.clone(),
                            }
                        }
                        Some(d) => classify(&d.summary(), d.is_permanent(), &host.name),
                        None => temp("451 4.4.2 the content was not accepted", host),
                    }
                };
                results.insert(addr.to_string(), res);
            }
            if !delivered.is_empty() {
                let reply = outcome
                    .data
                    .as_ref()
                    .map(|d| d.summary())
                    .unwrap_or_default();
                // Durable before QUIT: a crash from here on never sends to them again.
                mark(ctx, id, delivered, reply, host.name.clone()).await;
            }
            let remote = Remote::of(&session, &host.name, &ehlo);
            let talk = session.quit().await;
            write_record(ctx, m, remote, talk, addrs, &results).await;
            // A temporary refusal of the whole transaction: the next host may do better.
            let all_temporary = results
                .values()
                .all(|r| matches!(r, Result1::Temporary { .. }));
            if all_temporary && !outcome.mail.is_positive() {
                last = outcome.mail.summary();
                continue;
            }
            return results;
        }
    }
    all(
        addrs,
        Result1::Temporary {
            reply: last,
            host: None,
        },
    )
}

/// Delivered into a local mailbox.
fn local_ok(ctx: &Context, report: Option<Action>) -> Result1 {
    Result1::Delivered {
        report,
        reply: "250 2.0.0 delivered locally".into(),
        host: ctx.cfg.hostname.clone(),
    }
}

fn temp(reply: &str, host: &super::dns::Host) -> Result1 {
    Result1::Temporary {
        reply: reply.to_string(),
        host: Some(host.name.clone()),
    }
}

fn classify(reply: &str, permanent: bool, host: &str) -> Result1 {
    let (reply, host) = (reply.to_string(), Some(host.to_string()));
    if permanent {
        Result1::Permanent { reply, host }
    } else {
        Result1::Temporary { reply, host }
    }
}

/// The session a record is about: the MX host, its address and ours, TLS.
struct Remote {
    mx: String,
    peer: SocketAddr,
    local: SocketAddr,
    tls_version: Option<String>,
    ehlo: String,
}

impl Remote {
    fn of(s: &Session, mx: &str, ehlo: &str) -> Remote {
        Remote {
            mx: mx.to_string(),
            peer: s.peer,
            local: s.local,
            tls_version: s.tls.then(|| s.tls_version.clone().unwrap_or_default()),
            ehlo: ehlo.to_string(),
        }
    }
}

/// The outbound transaction record, in the format of the inbound one: the MX host and its
/// address, the TLS version, and per recipient the remote reply (the accepting one too).
async fn write_record(
    ctx: &Context,
    m: &QueuedMessage,
    remote: Remote,
    talk: Vec<String>,
    addrs: &[String],
    results: &Results,
) {
    let mut conversation = vec![format!(
        "(MX {} [{}], {})",
        remote.mx,
        remote.peer.ip(),
        remote
            .tls_version
            .as_deref()
            .map_or_else(|| "no TLS".to_string(), |v| format!("TLS {v}"))
    )];
    conversation.extend(talk);
    let recipients = addrs
        .iter()
        .map(|a| {
            let (outcome, reason) = match results.get(a) {
                Some(Result1::Delivered { reply, .. }) => (LogOutcome::Delivered, reply.clone()),
                Some(Result1::Permanent { reply, .. }) => (LogOutcome::Rejected, reply.clone()),
                Some(Result1::Temporary { reply, .. }) => (LogOutcome::Deferred, reply.clone()),
                None => (LogOutcome::Deferred, "not attempted".into()),
            };
            RecipientRecord {
                address: a.clone(),
                outcome,
                reason,
            }
        })
        .collect();
    let record = TransactionRecord {
        when: now_ms(),
        direction: "outbound".into(),
        service: "smtp".into(),
        client_ip: remote.local.ip().to_string(),
        server_ip: remote.peer.ip().to_string(),
        helo: remote.ehlo,
        user: None,
        sender: m.sender.clone(),
        recipients,
        message_id: m.message_id.clone(),
        size: m.size,
        tls: remote.tls_version.is_some(),
        conversation,
        auth: None,
    };
    if let Err(e) = marque_delivery::record_only(&ctx.core, record, vec![m.tenant]).await {
        warn!(error = %e, "cannot write the outbound transaction record");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_path_is_dropped_for_relaying() {
        assert_eq!(
            relay_body(b"Return-Path: <a@b>\r\nReceived: x\r\n\r\nhi"),
            b"Received: x\r\n\r\nhi"
        );
        assert_eq!(relay_body(b"Subject: s\r\n\r\nhi"), b"Subject: s\r\n\r\nhi");
    }
}
