//! The operator commands: they open the data directory directly (so not while a server runs
//! on it) and call the same core functions as the admin API.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cli::{
    Command, DomainCommand, MailboxCommand, PasswordSource, TenantCommand, UsageArgs,
};
use crate::config::{Config, Log};
use crate::datadir;
use crate::tenancy::Tenancy;

/// Runs one operator command.
pub fn run(config: Config, command: Command) -> Result<()> {
    // Only warnings and errors: the command's own output is on standard output.
    crate::logging::init(&Log {
        format: config.log.format,
        level: "warn".into(),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (store, _fresh) = datadir::open_store(&config)?;
        let tenancy = Tenancy::open(store.clone())?;
        datadir::bootstrap(&config, &tenancy).await?;
        let result = dispatch(&tenancy, &config, command).await;
        drop(tenancy);
        store.flush().context("flushing the store")?;
        result
    })
}

async fn dispatch(tenancy: &Tenancy, config: &Config, command: Command) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Tenant(TenantCommand::Create { name, kind, parent }) => {
            let created = tenancy.create_tenant(name, kind, parent).await?;
            let t = &created["tenant"];
            writeln!(
                out,
                "created {} {} \"{}\" under tenant {}",
                text(&t["kind"]),
                t["id"],
                text(&t["name"]),
                t["parent"]
            )?;
            if !created["activation"].is_null() {
                writeln!(out, "activation: {}", created["activation"])?;
            }
        }
        Command::Tenant(TenantCommand::List) => {
            writeln!(out, "{:<6} {:<9} {:<6} NAME", "ID", "KIND", "PARENT")?;
            for t in tenancy.list_tenants().await? {
                let field = |k: &str| match &t[k] {
                    Value::Null => "-".to_string(),
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                writeln!(
                    out,
                    "{:<6} {:<9} {:<6} {}",
                    field("id"),
                    field("kind"),
                    field("parent"),
                    field("name")
                )?;
            }
        }
        Command::Domain(DomainCommand::Create { name, tenant }) => {
            let d = tenancy.create_domain(name, tenant).await?;
            writeln!(
                out,
                "created domain {} (id {}) for tenant {}",
                text(&d["name"]),
                d["id"],
                d["tenant"]
            )?;
        }
        Command::Domain(DomainCommand::Dkim { name }) => {
            // One zone-file line per key: NAME IN TXT "..." (split into 255-byte strings).
            for r in tenancy.dkim_records(&name).await? {
                let parts: Vec<String> = r
                    .txt_value
                    .as_bytes()
                    .chunks(255)
                    .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
                    .collect();
                writeln!(out, "{}. IN TXT {}", r.txt_name, parts.join(" "))?;
            }
        }
        Command::Domain(DomainCommand::Dns { name, check }) => {
            let hosting = tenancy.hosting().clone().with_dns(config.dns_settings());
            let actor = marque_core::Actor::operator().with_source("cli");
            let status = if check {
                match hosting.check_domain_dns(&actor, &name).await? {
                    marque_hosting::dns::CheckOutcome::Checked(s) => s,
                    marque_hosting::dns::CheckOutcome::TooSoon(wait) => {
                        bail!("checked moments ago; try again in {} s", wait.as_secs() + 1)
                    }
                }
            } else {
                hosting.domain_dns(&actor, &name).await?
            };
            crate::dnstable::print(&mut out, &status)?;
        }
        Command::Mailbox(MailboxCommand::Create {
            address,
            quota_mb,
            password,
        }) => {
            let password = read_password(password)?;
            let m = tenancy.create_mailbox(address, password, quota_mb).await?;
            writeln!(
                out,
                "created mailbox {} ({} MB, {}) in tenant {}",
                text(&m["address"]),
                m["quota_mb"],
                text(&m["tier"]),
                m["tenant"]
            )?;
        }
        Command::Mailbox(MailboxCommand::Password { address, password }) => {
            let password = read_password(password)?;
            tenancy.set_password(address.clone(), password).await?;
            writeln!(out, "password of {address} changed")?;
        }
        Command::Usage(UsageArgs { tenant, json }) => {
            let usage = tenancy.usage(tenant).await?;
            if json {
                writeln!(out, "{usage}")?;
            } else {
                usage_table(&mut out, &usage)?;
            }
        }
        Command::Queue(q) => crate::queue::run(tenancy.hosting(), q).await?,
        Command::Serve(_) | Command::Config(_) => unreachable!("handled by the caller"),
    }
    Ok(())
}

/// A JSON string without its quotes; anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        v => v.to_string(),
    }
}

/// `usage` for people: one row for the tenant, its children and its domains.
fn usage_table(out: &mut impl Write, usage: &Value) -> Result<()> {
    let mib = |v: &Value| {
        v.as_i64()
            .map(|b| format!("{}", b >> 20))
            .unwrap_or_else(|| "-".into())
    };
    let row = |out: &mut dyn Write, what: &str, u: &Value| -> std::io::Result<()> {
        let c = &u["counts"];
        let mailboxes: i64 = c["mailboxes"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_i64).sum())
            .unwrap_or(0);
        let pool = match &u["limits"]["storage_mb"] {
            Value::Null => "-".to_string(),
            v => v.to_string(),
        };
        writeln!(
            out,
            "{:<9} {:<6} {:<24} {:>7} {:>9} {:>7} {:>8} {:>10} {:>8}",
            what,
            text(&u["id"]),
            text(&u["name"]),
            text(&c["domains"]),
            mailboxes,
            text(&c["aliases"]),
            mib(&c["storage_used"]),
            mib(&c["storage_allocated"]),
            pool
        )
    };
    writeln!(
        out,
        "{:<9} {:<6} {:<24} {:>7} {:>9} {:>7} {:>8} {:>10} {:>8}",
        "", "ID", "NAME", "DOMAINS", "MAILBOXES", "ALIASES", "USED MB", "ALLOC MB", "POOL MB"
    )?;
    row(out, "tenant", &usage["tenant"])?;
    for child in usage["children"].as_array().into_iter().flatten() {
        row(out, "child", child)?;
    }
    for domain in usage["domains"].as_array().into_iter().flatten() {
        row(out, "domain", domain)?;
    }
    Ok(())
}

/// The password from `--password` or the first line of standard input.
fn read_password(source: PasswordSource) -> Result<String> {
    let password = match source.password {
        Some(p) => p,
        None => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}
