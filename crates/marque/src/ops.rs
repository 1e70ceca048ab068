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
        let (store, fresh) = datadir::open_store(&config)?;
        let tenancy = Tenancy::open(store.clone(), fresh)?;
        datadir::bootstrap(&config, &tenancy, fresh).await?;
        let result = dispatch(&tenancy, command).await;
        drop(tenancy);
        store.flush().context("flushing the store")?;
        result
    })
}

async fn dispatch(tenancy: &Tenancy, command: Command) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Tenant(TenantCommand::Create { name, kind, parent }) => {
            let tenant = tenancy.create_tenant(name, kind, parent).await?;
            writeln!(out, "{}", pretty(&tenant))?;
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
            let domain = tenancy.create_domain(name, tenant).await?;
            writeln!(out, "{}", pretty(&domain))?;
        }
        Command::Mailbox(MailboxCommand::Create {
            address,
            quota_mb,
            password,
        }) => {
            let password = read_password(password)?;
            let mailbox = tenancy.create_mailbox(address, password, quota_mb).await?;
            writeln!(out, "{}", pretty(&mailbox))?;
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
                writeln!(out, "{}", pretty(&usage))?;
            }
        }
        Command::Serve(_) | Command::Config(_) => unreachable!("handled by the caller"),
    }
    Ok(())
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
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
