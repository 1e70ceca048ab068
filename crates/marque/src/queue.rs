//! The outbound queue from the binary: the delivery workers `serve` starts, and the operator
//! commands `marque queue list|show|retry|delete`.
//!
//! The commands act as the operator (provider admin) through the hosting features' queue functions, so
//! they pass the same permission check and leave the same audit records as the admin API.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use clap::Subcommand;
use marque_core::Actor;
use marque_hosting::Hosting;
use marque_hosting::outbound::QueueItem;
use marque_smtp::outbound::OutboundConfig;

use crate::config::Config;

/// `marque queue ...`.
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List the queued messages: id, next attempt, attempts, sender, recipients and their state.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one message: its envelope, each recipient's state and last reply, as JSON.
    Show { id: u64 },
    /// Attempt delivery of a message now (its pending recipients).
    Retry { id: u64 },
    /// Delete a message from the queue without delivering it (no DSN is sent).
    Delete { id: u64 },
}

/// The workers' configuration from `[outbound]`, `[dns]` and the server's host name.
pub fn worker_config(config: &Config) -> OutboundConfig {
    let o = &config.outbound;
    let mut c = OutboundConfig::new(&config.server.hostname);
    c.port = o.port;
    c.nameservers = config.dns.nameservers.clone();
    c.source_ip = o.source_ip;
    c.concurrency = o.concurrency;
    c.retry_initial_ms = millis(o.retry_initial);
    c.retry_factor = o.retry_factor;
    c.retry_max_delay_ms = millis(o.retry_max_delay);
    c.max_age_ms = millis(o.max_age);
    c.delay_warning_ms = millis(o.delay_warning);
    c.lease_ms = millis(o.lease);
    c.tls = o.tls.clone();
    c
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn when(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn status(item: &QueueItem) -> String {
    item.message
        .recipients
        .iter()
        .map(|r| {
            let s = serde_json::to_value(r.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{}({s})", r.address)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs one `marque queue` command.
pub async fn run(hosting: &Hosting, command: QueueCommand) -> Result<()> {
    let actor = Actor::operator().with_source("cli");
    let mut out = std::io::stdout().lock();
    match command {
        QueueCommand::List { json } => {
            let mut all = Vec::new();
            let mut after = 0;
            loop {
                let page = hosting.queue_list(&actor, after, 1000).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                all.extend(page);
            }
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
                return Ok(());
            }
            writeln!(
                out,
                "{:<8} {:<20} {:<8} {:<7} {:<30} RECIPIENTS",
                "ID", "NEXT ATTEMPT", "KIND", "TRIES", "SENDER"
            )?;
            for i in &all {
                let kind = serde_json::to_value(i.message.kind)?;
                writeln!(
                    out,
                    "{:<8} {:<20} {:<8} {:<7} {:<30} {}",
                    i.id,
                    when(i.next_attempt_ms),
                    kind.as_str().unwrap_or("-"),
                    i.message.attempts,
                    if i.message.sender.is_empty() {
                        "<>"
                    } else {
                        &i.message.sender
                    },
                    status(i)
                )?;
            }
            writeln!(out, "{} queued", all.len())?;
        }
        QueueCommand::Show { id } => {
            let item = hosting.queue_get(&actor, id).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&item)?)?;
        }
        QueueCommand::Retry { id } => {
            hosting.queue_retry(&actor, id).await?;
            writeln!(out, "queue entry {id} is due now")?;
        }
        QueueCommand::Delete { id } => {
            hosting.queue_delete(&actor, id).await?;
            writeln!(out, "queue entry {id} deleted")?;
        }
    }
    Ok(())
}
