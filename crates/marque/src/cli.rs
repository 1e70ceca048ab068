//! The command line: `serve`, `config check`, and the operator commands.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, Service};
use crate::ops;
use crate::tenancy::Kind;

/// Marque: a multi-tenant, white-label mail platform.
#[derive(Debug, Parser)]
#[command(name = "marque", version, about, propagate_version = true)]
pub struct Cli {
    /// The configuration file (TOML). Without it, the embedded default: data in ./data,
    /// listeners on 127.0.0.1 high ports, a self-signed certificate.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "MARQUE_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every configured service in one process (or the --only subset) until SIGTERM.
    Serve(ServeArgs),
    /// Check or show the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Resellers and customers.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Mail domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Mailboxes.
    #[command(subcommand)]
    Mailbox(MailboxCommand),
    /// Storage and account usage of a tenant and its subtree.
    Usage(UsageArgs),
    /// The outbound queue: list, show, retry now, delete.
    #[command(subcommand)]
    Queue(crate::queue::QueueCommand),
}

/// `marque serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Run only these services (comma-separated): smtp, submission, submissions, imap, imaps,
    /// pop3, pop3s, managesieve, http, https.
    #[arg(long, value_delimiter = ',', value_name = "SERVICES")]
    pub only: Option<Vec<Service>>,

    /// Once listening, print `listening SERVICE ADDRESS` for every bound socket and then
    /// `ready` on standard output (to find ports chosen with port 0).
    #[arg(long)]
    pub print_listeners: bool,
}

/// `marque config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration: print every problem with its key path (exit 1), or a
    /// summary of the effective configuration.
    Check,
    /// Print the embedded default configuration.
    Default,
}

/// `marque tenant ...`.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a reseller or customer.
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// reseller or customer.
        #[arg(long, value_enum)]
        kind: Kind,
        /// The parent tenant's id (default: the provider).
        #[arg(long, value_name = "ID")]
        parent: Option<u64>,
    },
    /// List every tenant.
    List,
}

/// `marque domain ...`.
#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Add a mail domain to a tenant.
    Create {
        /// The domain name, e.g. example.com.
        name: String,
        /// The owning tenant's id.
        #[arg(long, value_name = "ID")]
        tenant: u64,
    },
    /// Print the DKIM TXT records to publish for a domain (its keys are made if it has none).
    Dkim {
        /// The domain name.
        name: String,
    },
    /// Print the DNS records a domain must publish and the state of each at the last check.
    Dns {
        /// The domain name.
        name: String,
        /// Ask DNS now (the `[dns]` name servers) and store the result first.
        #[arg(long)]
        check: bool,
    },
}

/// Where a password comes from.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The password itself (visible to other local users in the process list: prefer
    /// --password-stdin).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
}

/// `marque mailbox ...`.
#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Create a mailbox in an existing domain.
    Create {
        /// The address, e.g. anna@example.com.
        address: String,
        /// Its size in MiB.
        #[arg(long, value_name = "N")]
        quota_mb: u64,
        /// Its password.
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a mailbox's password.
    Password {
        /// The address.
        address: String,
        /// The new password.
        #[command(flatten)]
        password: PasswordSource,
    },
}

/// `marque usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// The tenant (default: the provider, that is everything).
    #[arg(long, value_name = "ID")]
    pub tenant: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses the command line and runs it; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    run(cli)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let loaded = Config::load(cli.config.as_deref());
    match cli.command {
        Command::Config(ConfigCommand::Default) => {
            print!("{}", config::DEFAULT);
            ExitCode::SUCCESS
        }
        Command::Config(ConfigCommand::Check) => match loaded {
            Ok((config, source)) => {
                println!("configuration OK: {source}");
                print!("{}", config.summary());
                ExitCode::SUCCESS
            }
            Err(problems) => {
                report_problems(&problems);
                ExitCode::FAILURE
            }
        },
        command => {
            let config = match loaded {
                Ok((config, _)) => config,
                Err(problems) => {
                    report_problems(&problems);
                    return ExitCode::FAILURE;
                }
            };
            let result = match command {
                Command::Serve(args) => serve(config, args),
                other => ops::run(config, other),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn report_problems(problems: &config::Problems) {
    let mut err = std::io::stderr().lock();
    let n = problems.0.len();
    let _ = writeln!(
        err,
        "the configuration has {n} problem{}:",
        if n == 1 { "" } else { "s" }
    );
    for p in &problems.0 {
        let _ = writeln!(err, "  {p}");
    }
}

fn serve(config: Config, args: ServeArgs) -> anyhow::Result<()> {
    crate::logging::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = crate::serve::Options {
        only: args.only,
        print_listeners: args.print_listeners,
    };
    let result = runtime.block_on(crate::serve::run(config, options));
    if let Err(e) = &result {
        tracing::error!("{e:#}");
    }
    result
}
