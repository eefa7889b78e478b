//! `kinesis-backup backup …`: create, list, get, update, restore, delete and
//! verify backups.

use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::output::{self, Output, json};
use super::progress::Progress;
use super::{CliError, parse_rfc3339, session};
use kinesis_backup_core::model::ExpiryChange;
use kinesis_backup_core::runtime::{PluginSource, RuntimeOptions};
use kinesis_backup_core::tenant::Access;

/// The backup commands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up `.env`, `data/`, `public/` and `translations/` now.
    Create {
        /// Free text to find the backup by later.
        #[arg(long, default_value = "")]
        description: String,
        /// Remove the backup automatically at this time (RFC 3339).
        #[arg(long, value_parser = parse_rfc3339, value_name = "RFC3339")]
        expiry: Option<DateTime<Utc>>,
    },
    /// List backups, newest first.
    List {
        /// Keep backups whose name or description contains this text (any case).
        #[arg(long)]
        filter: Option<String>,
        /// How many to show (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// How many to skip.
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Show one backup.
    Get {
        /// The backup's id.
        id: u64,
    },
    /// Change a backup's description or expiry.
    Update {
        /// The backup's id.
        id: u64,
        /// The new description.
        #[arg(long)]
        description: Option<String>,
        /// The new expiry (RFC 3339, in the future).
        #[arg(long, value_parser = parse_rfc3339, value_name = "RFC3339", conflicts_with = "no_expiry")]
        expiry: Option<DateTime<Utc>>,
        /// Keep the backup until it is deleted.
        #[arg(long)]
        no_expiry: bool,
    },
    /// Replace the tenant's files with a backup's contents.
    Restore {
        /// The backup's id.
        id: u64,
    },
    /// Delete a backup and its archive.
    Delete {
        /// The backup's id.
        id: u64,
    },
    /// Check a backup's archive against its checksums (exit 1 when damaged).
    Verify {
        /// The backup's id.
        id: u64,
    },
}

impl BackupCommand {
    fn access(&self) -> Access {
        match self {
            BackupCommand::List { .. } | BackupCommand::Get { .. } | BackupCommand::Verify { .. } => Access::Read,
            _ => Access::Write,
        }
    }
}

/// Runs a backup command on the tenant at `root`.
pub(crate) fn run(
    command: BackupCommand,
    root: &Path,
    plugin: (PluginSource, RuntimeOptions),
    json_output: bool,
) -> Result<ExitCode, CliError> {
    if let BackupCommand::Update { description: None, expiry: None, no_expiry: false, .. } = command {
        return Err(CliError::Usage("nothing to update: give --description, --expiry or --no-expiry".to_string()));
    }
    let backups = session::open(root, plugin, command.access())?;
    let out = Output { json: json_output };
    match command {
        BackupCommand::Create { description, expiry } => {
            let progress = Progress::start("Backing up");
            let backup = backups.create(&description, expiry, progress.callback())?;
            drop(progress);
            let message = format!("Created backup {} ({}, {})", backup.id, backup.name, output::size(backup.size));
            out.emit(&message, &[("backup", json(&backup))], |m| format!("{m}."));
        }
        BackupCommand::List { filter, limit, offset } => {
            let page = backups.list(filter.as_deref(), limit, offset)?;
            let footer = output::page_footer(page.backups.len(), offset, page.amount, "backups");
            out.emit(&footer, &[("backups", json(&page.backups)), ("amount", json(&page.amount))], |m| {
                if page.backups.is_empty() {
                    m.to_string()
                } else {
                    format!("{}\n{m}", output::backup_table(&page.backups))
                }
            });
        }
        BackupCommand::Get { id } => {
            let backup = backups.get(id)?;
            out.emit("Backup fetched", &[("backup", json(&backup))], |_| output::backup_details(&backup));
        }
        BackupCommand::Update { id, description, expiry, no_expiry } => {
            let change = match (expiry, no_expiry) {
                (Some(t), _) => ExpiryChange::Set(t),
                (None, true) => ExpiryChange::Clear,
                (None, false) => ExpiryChange::Keep,
            };
            let backup = backups.update(id, description.as_deref(), change)?;
            let message = format!("Updated backup {}", backup.id);
            out.emit(&message, &[("backup", json(&backup))], |m| {
                format!(
                    "{m}: description \"{}\", expires {}.",
                    backup.description,
                    output::opt_time(backup.expiry, "never")
                )
            });
        }
        BackupCommand::Restore { id } => {
            let progress = Progress::start("Restoring");
            let report = backups.restore(id, progress.callback())?;
            drop(progress);
            let message =
                format!("Restored backup {}: {} files, {}", report.id, report.files, output::size(report.bytes));
            out.emit(&message, &[("restore", json(&report))], |m| format!("{m}."));
        }
        BackupCommand::Delete { id } => {
            backups.delete(id)?;
            out.emit(&format!("Deleted backup {id}"), &[], |m| format!("{m}."));
        }
        BackupCommand::Verify { id } => {
            let progress = Progress::start("Verifying");
            let report = backups.verify(id, progress.callback())?;
            drop(progress);
            let message = if report.ok {
                format!(
                    "Backup {} is intact: {} files, {} checked",
                    report.id,
                    report.files_checked,
                    output::size(report.bytes_checked)
                )
            } else {
                format!("Backup {} is damaged: {} problem(s) found", report.id, report.problems.len())
            };
            out.emit(&message, &[("verify", json(&report))], |m| {
                let mut text = format!("{m}.");
                for problem in &report.problems {
                    text.push_str(&format!("\n  - {problem}"));
                }
                text
            });
            if !report.ok {
                return Err(CliError::Damaged(report.id));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
