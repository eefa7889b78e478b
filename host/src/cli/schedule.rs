//! `kinesis-backup schedule …`: recurring backups, and `tick` to run what
//! is due.

use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::output::{self, Output, json};
use super::progress::Progress;
use super::{CliError, parse_rfc3339, session};
use kinesis_backup_core::model::{HoursChange, Schedule, ScheduleInput, SchedulePatch};
use kinesis_backup_core::ops::OpsError;
use kinesis_backup_core::tenant::Access;

/// The schedule commands.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Add a schedule.
    Create {
        /// A name for people.
        #[arg(long)]
        name: String,
        /// Five cron fields in UTC: 'MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK' (Sunday = 0 or 7).
        #[arg(long)]
        cron: String,
        /// Its backups expire this many hours after they are made.
        #[arg(long, value_name = "N")]
        expiry_hours: Option<u32>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// List schedules.
    List {
        /// How many to show (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// How many to skip.
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Change a schedule.
    Update {
        /// The schedule's id.
        id: u64,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new cron expression.
        #[arg(long)]
        cron: Option<String>,
        /// Its backups expire this many hours after they are made.
        #[arg(long, value_name = "N", conflicts_with = "no_expiry_hours")]
        expiry_hours: Option<u32>,
        /// Its backups no longer expire.
        #[arg(long)]
        no_expiry_hours: bool,
        /// Enable it.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable it.
        #[arg(long)]
        disable: bool,
    },
    /// Delete a schedule (its backups are kept).
    Delete {
        /// The schedule's id.
        id: u64,
    },
    /// Run what is due at an instant: one backup per due schedule.
    Tick {
        /// The instant (RFC 3339); now when absent.
        #[arg(long, value_parser = parse_rfc3339, value_name = "RFC3339")]
        at: Option<DateTime<Utc>>,
    },
}

/// "Created schedule 3 "weekly", next run …" style confirmations.
fn confirmation(verb: &str, schedule: &Schedule) -> String {
    format!(
        "{verb} schedule {} \"{}\", next run {}",
        schedule.id,
        schedule.name,
        output::opt_time(schedule.next_run, "none (disabled)")
    )
}

/// Runs a schedule command on the tenant at `root`.
pub(crate) fn run(
    command: ScheduleCommand,
    root: &Path,
    setup: session::Setup,
    json_output: bool,
) -> Result<ExitCode, CliError> {
    let access = if matches!(command, ScheduleCommand::List { .. }) { Access::Read } else { Access::Write };
    let backups = session::open(root, setup, access)?;
    let out = Output { json: json_output };
    match command {
        ScheduleCommand::Create { name, cron, expiry_hours, disabled } => {
            let input = ScheduleInput { name, cron, expiry_hours, enabled: !disabled };
            let schedule = backups.schedule_create(&input)?;
            let message = confirmation("Created", &schedule);
            out.emit(&message, &[("schedule", json(&schedule))], |m| format!("{m}."));
        }
        ScheduleCommand::List { limit, offset } => {
            let page = backups.schedule_list(limit, offset)?;
            let footer = output::page_footer(page.schedules.len(), offset, page.amount, "schedules");
            out.emit(&footer, &[("schedules", json(&page.schedules)), ("amount", json(&page.amount))], |m| {
                if page.schedules.is_empty() {
                    m.to_string()
                } else {
                    format!("{}\n{m}", output::schedule_table(&page.schedules))
                }
            });
        }
        ScheduleCommand::Update { id, name, cron, expiry_hours, no_expiry_hours, enable, disable } => {
            let patch = SchedulePatch {
                name,
                cron,
                expiry_hours: match (expiry_hours, no_expiry_hours) {
                    (Some(h), _) => HoursChange::Set(h),
                    (None, true) => HoursChange::Clear,
                    (None, false) => HoursChange::Keep,
                },
                enabled: match (enable, disable) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
            };
            let schedule = backups.schedule_update(id, &patch)?;
            let message = confirmation("Updated", &schedule);
            out.emit(&message, &[("schedule", json(&schedule))], |m| format!("{m}."));
        }
        ScheduleCommand::Delete { id } => {
            backups.schedule_delete(id)?;
            out.emit(&format!("Deleted schedule {id}"), &[], |m| format!("{m} (its backups are kept)."));
        }
        ScheduleCommand::Tick { at } => {
            let at = at.unwrap_or_else(Utc::now);
            let progress = Progress::start("Running due schedules");
            let report = backups.tick(at)?.ok_or(OpsError::Busy)?;
            drop(progress);
            session::finish_offsite(&backups);
            let message = format!(
                "Tick at {}: {} backup(s) created, {} expired backup(s) removed, {} schedule(s) failed",
                output::time(at),
                report.created.len(),
                report.expired.len(),
                report.failed.len()
            );
            out.emit(&message, &[("tick", json(&report))], |m| {
                let mut text = format!("{m}.");
                if !report.created.is_empty() {
                    text.push('\n');
                    text.push_str(&output::backup_table(&report.created));
                }
                for failure in &report.failed {
                    text.push_str(&format!("\n  schedule {} failed: {}", failure.schedule_id, failure.message));
                }
                text
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
