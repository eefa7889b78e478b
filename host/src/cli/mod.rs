//! The `kinesis-backup` command line: backups and schedules of one tenant
//! folder through the plugin runtime, and `serve` for the API server.
//!
//! Exit codes: 0 done; 1 the operation failed (storage, damaged archive,
//! plugin crash or deadline, busy tenant, unknown id); 2 bad usage or bad
//! input (the message says what is wrong).

mod backup;
mod error;
mod offsite;
mod output;
mod plugin;
mod progress;
mod schedule;
mod session;
mod tenant;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

pub use error::CliError;
pub use offsite::OffsiteArgs;

use crate::server::{OpenError, ServeError};
use kinesis_backup_core::runtime::{PluginSource, RuntimeOptions};

/// Backups of a Kinesis tenant folder (`.env`, `data/`, `public/`,
/// `translations/`, `backups/`), made by a sandboxed WebAssembly plugin.
#[derive(Debug, Parser)]
#[command(name = "kinesis-backup", version, propagate_version = true)]
pub struct Cli {
    /// The tenant folder; missing folders are created on first use.
    #[arg(long, global = true, value_name = "DIR", default_value = "./kinesis-tenant")]
    pub root: PathBuf,
    /// A backup plugin component to use instead of the built-in one.
    #[arg(long, global = true, value_name = "FILE.wasm")]
    pub plugin: Option<PathBuf>,
    /// Print the JSON objects of the HTTP API instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Stop a long plugin call (create, restore, verify, a due tick) that
    /// reports no progress for this many seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub liveness: u64,
    /// Plugin instances one create, restore or verify may run at once (for
    /// a plugin of contract 1.1.0 or later); default: the number of cores.
    /// Under multi-tenant hosting each counts against `--max-running`.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: Option<u32>,
    /// Offsite copies of the backups.
    #[command(flatten)]
    pub offsite: OffsiteArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, inspect, restore, verify and delete backups.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Manage recurring backups and run what is due.
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Run the API server and web pages for this tenant (or, with
    /// `--tenants DIR`, for every tenant in DIR, chosen by host).
    Serve(crate::server::ServeArgs),
    /// For plugin authors: describe a component, check it against the
    /// conformance cases, write the contract's WIT.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Host several tenants: create, list, update and delete them.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
}

impl Cli {
    /// The runtime's limits chosen on the command line.
    pub fn runtime_options(&self) -> RuntimeOptions {
        let defaults = RuntimeOptions::default();
        RuntimeOptions {
            liveness: std::time::Duration::from_secs(self.liveness),
            jobs: self.jobs.unwrap_or(defaults.jobs),
            ..defaults
        }
    }

    /// The plugin chosen on the command line.
    pub fn plugin_source(&self) -> PluginSource {
        match &self.plugin {
            Some(file) => PluginSource::File(file.clone()),
            None => PluginSource::Embedded,
        }
    }
}

/// Parses an RFC 3339 time (`2030-01-31T12:00:00Z`) for clap.
pub(crate) fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time such as 2030-01-31T12:00:00Z ({e})"))
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // The server logs each request and backup (info); other commands only warnings.
    init_logging(if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" });
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let plugin = cli.plugin_source();
    let options = cli.runtime_options();
    let offsite = || cli.offsite.config_for_root(&cli.root);
    match cli.command {
        Command::Backup(command) => backup::run(command, &cli.root, (plugin, options, offsite()?), cli.json),
        Command::Schedule(command) => schedule::run(command, &cli.root, (plugin, options, offsite()?), cli.json),
        Command::Tenant(command) => tenant::run(command, cli.plugin.as_deref(), &cli.offsite, cli.json),
        Command::Plugin(command) => plugin::run(command, cli.json),
        Command::Serve(args) => {
            let offsite = match args.tenants {
                Some(_) => crate::server::ServeOffsite::Hosted(cli.offsite.settings()),
                None => crate::server::ServeOffsite::Root(offsite()?),
            };
            crate::server::run(cli.root, plugin, options, args, offsite).map(|()| ExitCode::SUCCESS).map_err(|err| {
                match err {
                    ServeError::Open(OpenError::Plugin(load)) => CliError::Load(load),
                    other => CliError::Serve(other.to_string()),
                }
            })
        }
    }
}

/// Logs go to stderr; `RUST_LOG` selects them (`default_level` otherwise).
fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn rfc3339_times_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!(parse_rfc3339("2030-01-31T13:00:00+01:00").unwrap().to_rfc3339(), "2030-01-31T12:00:00+00:00");
        let err = parse_rfc3339("tomorrow").unwrap_err();
        assert!(err.contains("not an RFC 3339 time"), "{err}");
    }
}
