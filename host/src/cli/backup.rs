//! `kinesis-backup backup …`: create, list, get, update, restore, delete,
//! verify and import backups, and retry their offsite copies.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::output::{self, Output, json};
use super::progress::Progress;
use super::{CliError, parse_rfc3339, session};
use kinesis_backup_core::model::ExpiryChange;
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
    /// Add an archive kept elsewhere (a download, another machine's) back to
    /// the backups, under its own name, after checking it completely.
    Import {
        /// The archive file.
        file: PathBuf,
        /// Its archive name `backup-YYYYMMDD_HHMM_ID.tar.gz`; default: the file's name.
        #[arg(long)]
        name: Option<String>,
        /// Free text to find the backup by later; default: its offsite record's, else `uploaded`.
        #[arg(long)]
        description: Option<String>,
    },
    /// Copy a backup offsite again (after a failed copy, or one made before
    /// `--offsite` was given).
    RetryOffsite {
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
    setup: session::Setup,
    json_output: bool,
) -> Result<ExitCode, CliError> {
    if let BackupCommand::Update { description: None, expiry: None, no_expiry: false, .. } = command {
        return Err(CliError::Usage("nothing to update: give --description, --expiry or --no-expiry".to_string()));
    }
    let backups = session::open(root, setup, command.access())?;
    let out = Output { json: json_output };
    match command {
        BackupCommand::Create { description, expiry } => {
            let progress = Progress::start("Backing up");
            let backup = backups.create(&description, expiry, progress.callback())?;
            drop(progress);
            session::finish_offsite(&backups);
            let backup = backups.listed(backup);
            let message = format!(
                "Created backup {} ({}, {}; offsite: {})",
                backup.backup.id,
                backup.backup.name,
                output::size(backup.backup.size),
                output::offsite(&backup)
            );
            out.emit(&message, &[("backup", json(&backup))], |m| format!("{m}."));
        }
        BackupCommand::List { filter, limit, offset } => {
            let page = backups.list_listed(filter.as_deref(), limit, offset)?;
            let footer = output::page_footer(page.backups.len(), offset, page.amount, "backups");
            out.emit(&footer, &[("backups", json(&page.backups)), ("amount", json(&page.amount))], |m| {
                if page.backups.is_empty() {
                    m.to_string()
                } else {
                    format!("{}\n{m}", output::listed_table(&page.backups))
                }
            });
        }
        BackupCommand::Get { id } => {
            let backup = backups.get_listed(id)?;
            out.emit("Backup fetched", &[("backup", json(&backup))], |_| output::listed_details(&backup));
        }
        BackupCommand::Update { id, description, expiry, no_expiry } => {
            let change = match (expiry, no_expiry) {
                (Some(t), _) => ExpiryChange::Set(t),
                (None, true) => ExpiryChange::Clear,
                (None, false) => ExpiryChange::Keep,
            };
            let updated = backups.update(id, description.as_deref(), change)?;
            session::finish_offsite(&backups);
            let message = format!("Updated backup {}", updated.id);
            let (shown, expiry) = (updated.description.clone(), updated.expiry);
            out.emit(&message, &[("backup", json(&backups.listed(updated)))], |m| {
                format!("{m}: description \"{shown}\", expires {}.", output::opt_time(expiry, "never"))
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
            session::finish_offsite(&backups);
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
        BackupCommand::Import { file, name, description } => {
            let mut reader = std::fs::File::open(&file)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
            let name = name.unwrap_or_else(|| file.file_name().unwrap_or_default().to_string_lossy().into_owned());
            let progress = Progress::start("Checking the archive");
            let backup = backups.import_from(&mut reader, None, &name, description.as_deref())?;
            drop(progress);
            session::finish_offsite(&backups);
            let backup = backups.listed(backup);
            let message = format!(
                "Imported {} as backup {} ({}, {})",
                file.display(),
                backup.backup.id,
                backup.backup.name,
                output::size(backup.backup.size)
            );
            out.emit(&message, &[("backup", json(&backup))], |m| format!("{m}."));
        }
        BackupCommand::RetryOffsite { id } => {
            backups.offsite_retry(id)?;
            session::finish_offsite(&backups);
            let backup = backups.get_listed(id)?;
            let message = format!("Backup {id} offsite: {}", output::offsite(&backup));
            out.emit(&message, &[("backup", json(&backup))], |m| format!("{m}."));
        }
    }
    Ok(ExitCode::SUCCESS)
}
